-- Foundation: areas, organisations, people, roles and access, sessions, audit log (SQLite).

CREATE TABLE areas (
    code        TEXT PRIMARY KEY,
    parent_code TEXT REFERENCES areas(code),
    level       TEXT NOT NULL CHECK (level IN ('country','region','cercle','commune','village')),
    depth       INTEGER NOT NULL,
    name        TEXT NOT NULL,
    path        TEXT NOT NULL UNIQUE,
    lat         REAL,
    lon         REAL,
    geometry    TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX areas_parent ON areas(parent_code);
CREATE INDEX areas_level ON areas(level, path);

CREATE TABLE area_tags (
    area_code TEXT NOT NULL REFERENCES areas(code) ON DELETE CASCADE,
    tag       TEXT NOT NULL,
    PRIMARY KEY (area_code, tag)
);
CREATE INDEX area_tags_tag ON area_tags(tag);

CREATE TABLE organisations (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    kind       TEXT NOT NULL,
    area_code  TEXT NOT NULL REFERENCES areas(code),
    created_at TEXT NOT NULL,
    UNIQUE (name, area_code)
);

CREATE TABLE roles (
    name        TEXT PRIMARY KEY,
    label       TEXT NOT NULL,
    permissions TEXT NOT NULL,      -- JSON array of permission names
    builtin     BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    password_hash TEXT,             -- argon2id PHC string; NULL = token-only account
    org_id        INTEGER REFERENCES organisations(id),
    locale        TEXT NOT NULL DEFAULT 'fr',
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    totp_secret   TEXT,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until  TEXT,
    created_at    TEXT NOT NULL
);

CREATE TABLE grants (
    id        INTEGER PRIMARY KEY,
    user_id   INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role_name TEXT NOT NULL REFERENCES roles(name),
    area_code TEXT NOT NULL REFERENCES areas(code),
    UNIQUE (user_id, role_name, area_code)
);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,   -- SHA-256 of the token; the token itself is shown once
    created_at   TEXT NOT NULL,
    expires_at   TEXT,
    revoked_at   TEXT
);

CREATE TABLE sessions (
    id_hash      TEXT PRIMARY KEY,       -- SHA-256 of the cookie value
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE audit_log (
    seq       INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    actor_id  INTEGER,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    entity    TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    detail    TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);
CREATE INDEX audit_entity ON audit_log(entity, entity_id);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
