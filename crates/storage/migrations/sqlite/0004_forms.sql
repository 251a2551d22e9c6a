-- ODK / OpenRosa forms and their submissions (SQLite).

CREATE TABLE forms (
    id          INTEGER PRIMARY KEY,
    form_id     TEXT NOT NULL,
    version     TEXT NOT NULL DEFAULT '',
    title       TEXT NOT NULL,
    purpose     TEXT NOT NULL CHECK (purpose IN ('incident','survey')),
    xml         BLOB NOT NULL,            -- exactly as uploaded: what phones download and hash
    md5         TEXT NOT NULL,
    area_code   TEXT NOT NULL REFERENCES areas(code),
    open        BOOLEAN NOT NULL DEFAULT TRUE,
    created_at  TEXT NOT NULL,
    UNIQUE (form_id, version)
);

CREATE TABLE submissions (
    id           INTEGER PRIMARY KEY,
    form_pk      INTEGER NOT NULL REFERENCES forms(id),
    instance_id  TEXT NOT NULL UNIQUE,    -- Collect resends with the same uuid: stored once
    xml          BLOB NOT NULL,
    data         TEXT NOT NULL,           -- the parsed record, JSON
    warnings     TEXT NOT NULL DEFAULT '[]',
    area_code    TEXT,
    submitted_by INTEGER REFERENCES users(id),
    report_id    INTEGER REFERENCES reports(id),
    intake_error TEXT,                    -- why no report was made (kept for an analyst)
    received_at  TEXT NOT NULL
);
CREATE INDEX submissions_form ON submissions(form_pk, received_at);

CREATE TABLE submission_attachments (
    id            INTEGER PRIMARY KEY,
    submission_id INTEGER NOT NULL REFERENCES submissions(id),
    file_name     TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    size          INTEGER NOT NULL,
    sha256        TEXT NOT NULL,
    bytes         BLOB NOT NULL,
    UNIQUE (submission_id, file_name)
);
