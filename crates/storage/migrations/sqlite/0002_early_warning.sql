-- Early warning: categories, alerts (an event's lifecycle), reports, follow-up threads,
-- escalation rules, attachments; and the job queue and SMS/webhook outboxes they feed.

CREATE TABLE categories (
    code             TEXT PRIMARY KEY,
    label_fr         TEXT NOT NULL,
    label_en         TEXT NOT NULL,
    family           TEXT NOT NULL,
    default_severity INTEGER NOT NULL,
    protected        BOOLEAN NOT NULL,
    keywords         TEXT NOT NULL DEFAULT '[]',
    active           BOOLEAN NOT NULL DEFAULT TRUE
);

-- One row per event: the reports about it and its lifecycle (reported → … → closed).
CREATE TABLE alerts (
    id              INTEGER PRIMARY KEY,
    category_code   TEXT NOT NULL REFERENCES categories(code),
    severity        INTEGER NOT NULL,
    area_code       TEXT REFERENCES areas(code),
    area_path       TEXT,
    state           TEXT NOT NULL,
    title           TEXT NOT NULL,
    reported_at     TEXT NOT NULL,
    alerted_at      TEXT,
    closed_at       TEXT,
    outcome         TEXT,
    needs_attention BOOLEAN NOT NULL DEFAULT FALSE,
    wake_at         TEXT,             -- next escalation check
    doc             TEXT NOT NULL,    -- the domain Alert (timestamps, escalation, history) as JSON
    updated_at      TEXT NOT NULL
);
CREATE INDEX alerts_area ON alerts(area_path, reported_at);
CREATE INDEX alerts_state ON alerts(state, reported_at);
CREATE INDEX alerts_wake ON alerts(wake_at) WHERE wake_at IS NOT NULL;

CREATE TABLE reports (
    id                 INTEGER PRIMARY KEY,
    idempotency_key    TEXT NOT NULL UNIQUE,
    reference          TEXT NOT NULL UNIQUE,   -- short code a reporter quotes to follow up (SUIVI)
    alert_id           INTEGER REFERENCES alerts(id),
    received_at        TEXT NOT NULL,
    occurred_at        TEXT NOT NULL,
    category_code      TEXT NOT NULL REFERENCES categories(code),
    category_given     TEXT,
    severity           INTEGER NOT NULL,
    text               TEXT NOT NULL,
    area_code          TEXT REFERENCES areas(code),
    area_path          TEXT,
    lat                REAL,
    lon                REAL,
    place_name         TEXT,
    reporter_kind      TEXT NOT NULL,
    reporter_user_id   INTEGER REFERENCES users(id),
    reporter_contact   TEXT,          -- sealed (phone of an SMS reporter)
    reporter_index     TEXT,          -- blind index of the contact, to find their reports
    channel            TEXT NOT NULL,
    language           TEXT NOT NULL,
    flags              TEXT NOT NULL DEFAULT '[]',
    verification       TEXT NOT NULL DEFAULT 'pending',
    grade              TEXT,          -- Admiralty code, e.g. B2
    verified_by        INTEGER REFERENCES users(id),
    verified_at        TEXT
);
CREATE INDEX reports_area ON reports(area_path, received_at);
CREATE INDEX reports_alert ON reports(alert_id);
CREATE INDEX reports_received ON reports(received_at);
CREATE INDEX reports_reporter ON reports(reporter_index);

-- Two-way follow-up with a reporter, threaded under the report.
CREATE TABLE report_messages (
    id         INTEGER PRIMARY KEY,
    report_id  INTEGER NOT NULL REFERENCES reports(id),
    direction  TEXT NOT NULL CHECK (direction IN ('to_reporter','from_reporter')),
    body       TEXT NOT NULL,
    author_id  INTEGER REFERENCES users(id),
    at         TEXT NOT NULL
);
CREATE INDEX report_messages_report ON report_messages(report_id, at);

CREATE TABLE attachments (
    id           INTEGER PRIMARY KEY,
    report_id    INTEGER NOT NULL REFERENCES reports(id),
    file_name    TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         INTEGER NOT NULL,
    sha256       TEXT NOT NULL,
    bytes        BLOB NOT NULL,
    created_at   TEXT NOT NULL
);
CREATE INDEX attachments_report ON attachments(report_id);

CREATE TABLE escalation_rules (
    id            INTEGER PRIMARY KEY,
    category_code TEXT REFERENCES categories(code),
    min_severity  INTEGER NOT NULL,
    area_code     TEXT NOT NULL REFERENCES areas(code),
    levels        TEXT NOT NULL,       -- JSON: [{name, phone, ack_minutes}]
    created_at    TEXT NOT NULL
);

-- Background work lives in the database: claimed with a lease, retried with backoff.
CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY,
    queue        TEXT NOT NULL,
    payload      TEXT NOT NULL,
    dedup_key    TEXT UNIQUE,
    run_at       TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL DEFAULT 10,
    locked_by    TEXT,
    locked_until TEXT,
    done_at      TEXT,
    failed_at    TEXT,
    last_error   TEXT,
    created_at   TEXT NOT NULL
);
CREATE INDEX jobs_ready ON jobs(queue, run_at) WHERE done_at IS NULL AND failed_at IS NULL;

CREATE TABLE sms_outbox (
    id          INTEGER PRIMARY KEY,
    to_sealed   TEXT NOT NULL,
    to_index    TEXT NOT NULL,
    text        TEXT NOT NULL,
    purpose     TEXT NOT NULL,        -- reply, alert, follow_up
    alert_id    INTEGER REFERENCES alerts(id),
    status      TEXT NOT NULL DEFAULT 'queued',  -- queued, sent, delivered, failed
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    created_at  TEXT NOT NULL,
    sent_at     TEXT,
    dlr_status  INTEGER,
    dlr_at      TEXT
);

CREATE TABLE sms_inbox (
    id          INTEGER PRIMARY KEY,
    gateway_id  TEXT UNIQUE,          -- Kannel's message id: retries are recognised
    from_sealed TEXT NOT NULL,
    from_index  TEXT NOT NULL,
    text        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    report_id   INTEGER REFERENCES reports(id),
    received_at TEXT NOT NULL
);
CREATE INDEX sms_inbox_from ON sms_inbox(from_index, received_at);

CREATE TABLE webhooks (
    id         INTEGER PRIMARY KEY,
    url        TEXT NOT NULL,
    secret     TEXT NOT NULL,         -- sealed
    events     TEXT NOT NULL,         -- JSON array of event names
    area_code  TEXT NOT NULL REFERENCES areas(code),
    active     BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TEXT NOT NULL
);
