-- Protected cases: corruption denunciations, human-rights violation complaints, inspection
-- missions, civil-society monitoring findings. Identity fields are encrypted with a per-case
-- data key, itself stored only wrapped by the key file outside the database: a dump or a
-- backup alone names nobody. Receipt codes are stored as a keyed hash, never in clear.

CREATE TABLE cases (
    id                INTEGER PRIMARY KEY,
    workflow          TEXT NOT NULL,          -- workflow key: denunciation, violation, …
    state             TEXT NOT NULL,
    desk_org_id       INTEGER REFERENCES organisations(id),  -- the desk handling it; NULL = triage queue
    referred_to       TEXT,                   -- an institution outside Vigie the case was referred to
    area_code         TEXT NOT NULL REFERENCES areas(code),
    area_path         TEXT NOT NULL,
    title             TEXT NOT NULL,          -- non-identifying
    fields            TEXT NOT NULL DEFAULT '{}',  -- JSON: the fields the workflow marks non-identifying
    identity_keys     TEXT NOT NULL DEFAULT '[]',  -- JSON: which identity fields are filled (not their values)
    sealed_fields     BLOB,                   -- JSON of identity fields, XChaCha20-Poly1305 under the data key
    data_key          TEXT NOT NULL,          -- the per-case data key, wrapped by the keyring
    receipt_hash      TEXT NOT NULL UNIQUE,   -- HMAC of the receipt code (key derived from the key file)
    deadline          TEXT,
    opened_at         TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    closed_at         TEXT,
    publishable       BOOLEAN NOT NULL DEFAULT FALSE,  -- in a public closing state: may be published
    published_outcome TEXT,
    published_at      TEXT,
    report_id         INTEGER UNIQUE REFERENCES reports(id),  -- the early-warning report it came from
    created_by        INTEGER REFERENCES users(id)
);
CREATE INDEX cases_area ON cases(area_path, opened_at);
CREATE INDEX cases_deadline ON cases(deadline) WHERE closed_at IS NULL;
CREATE INDEX cases_published ON cases(published_at) WHERE published_at IS NOT NULL;

CREATE TABLE case_transitions (
    id        INTEGER PRIMARY KEY,
    case_id   INTEGER NOT NULL REFERENCES cases(id),
    from_state TEXT,
    to_state  TEXT NOT NULL,
    actor_id  INTEGER REFERENCES users(id),
    at        TEXT NOT NULL,
    deadline  TEXT
);
CREATE INDEX case_transitions_case ON case_transitions(case_id, at);

CREATE TABLE case_assignments (
    case_id     INTEGER NOT NULL REFERENCES cases(id),
    user_id     INTEGER NOT NULL REFERENCES users(id),
    assigned_by INTEGER REFERENCES users(id),
    at          TEXT NOT NULL,
    PRIMARY KEY (case_id, user_id)
);
CREATE INDEX case_assignments_user ON case_assignments(user_id);

-- Conflict of interest: a handler kept away from a case concerning their own unit.
CREATE TABLE case_exclusions (
    case_id     INTEGER NOT NULL REFERENCES cases(id),
    user_id     INTEGER NOT NULL REFERENCES users(id),
    reason      TEXT NOT NULL,
    excluded_by INTEGER REFERENCES users(id),
    at          TEXT NOT NULL,
    PRIMARY KEY (case_id, user_id)
);
CREATE INDEX case_exclusions_user ON case_exclusions(user_id);

-- Handlers' questions to the receipt holder and their answers; bodies sealed under the data key.
CREATE TABLE case_messages (
    id         INTEGER PRIMARY KEY,
    case_id    INTEGER NOT NULL REFERENCES cases(id),
    direction  TEXT NOT NULL CHECK (direction IN ('to_holder','from_holder')),
    body       BLOB NOT NULL,
    author_id  INTEGER REFERENCES users(id),
    at         TEXT NOT NULL
);
CREATE INDEX case_messages_case ON case_messages(case_id, at);

-- Evidence: bytes, name and digest sealed under the data key; type and size in clear.
CREATE TABLE case_evidence (
    id           INTEGER PRIMARY KEY,
    case_id      INTEGER NOT NULL REFERENCES cases(id),
    file_name    BLOB NOT NULL,           -- sanitised, then sealed
    content_type TEXT NOT NULL,
    size         INTEGER NOT NULL,
    sha256       BLOB NOT NULL,           -- SHA-256 of the content, sealed (a clear digest would confirm a known document)
    bytes        BLOB NOT NULL,           -- sealed
    from_holder  BOOLEAN NOT NULL,
    created_at   TEXT NOT NULL
);
CREATE INDEX case_evidence_case ON case_evidence(case_id);

-- Failed receipt lookups and public submissions per source, for lockout and rate limiting.
-- The source is a blind index (keyed HMAC) of the client address: never the address itself.
-- Rows are pruned a day after their last use.
CREATE TABLE receipt_failures (
    source_index TEXT NOT NULL,
    purpose      TEXT NOT NULL,           -- receipt, submission
    state        TEXT NOT NULL,           -- the domain LockoutState as JSON
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (source_index, purpose)
);
CREATE INDEX receipt_failures_updated ON receipt_failures(updated_at);
