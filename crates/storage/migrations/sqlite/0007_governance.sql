-- Actors of local security governance: committees and their members, meetings (attendance by
-- sex and age group, decisions and their follow-up, links to early-warning alerts), local
-- security plans; and the directory of resource persons (contact details sealed, consent recorded).

CREATE TABLE gov_committees (
    id              INTEGER PRIMARY KEY,
    name            TEXT NOT NULL,
    name_key        TEXT NOT NULL,            -- folded name: one committee of a name per area
    kind            TEXT NOT NULL,
    area_code       TEXT NOT NULL REFERENCES areas(code),
    area_path       TEXT NOT NULL,
    established_on  TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    UNIQUE (area_code, name_key)
);
CREATE INDEX gov_committees_area ON gov_committees(area_path);

CREATE TABLE gov_members (
    id            INTEGER PRIMARY KEY,
    committee_id  INTEGER NOT NULL REFERENCES gov_committees(id),
    name          TEXT NOT NULL,
    name_key      TEXT NOT NULL,
    role          TEXT NOT NULL,
    institution   TEXT,
    sex           TEXT NOT NULL,
    age_group     TEXT NOT NULL,
    UNIQUE (committee_id, name_key)
);

CREATE TABLE gov_meetings (
    id            INTEGER PRIMARY KEY,
    committee_id  INTEGER NOT NULL REFERENCES gov_committees(id),
    held_on       TEXT NOT NULL,
    agenda        TEXT NOT NULL,
    minutes       TEXT,
    created_at    TEXT NOT NULL,
    created_by    INTEGER REFERENCES users(id)
);
CREATE INDEX gov_meetings_committee ON gov_meetings(committee_id, held_on);

CREATE TABLE gov_attendance (
    meeting_id  INTEGER NOT NULL REFERENCES gov_meetings(id),
    sex         TEXT NOT NULL,
    age_group   TEXT NOT NULL,
    count       INTEGER NOT NULL,
    PRIMARY KEY (meeting_id, sex, age_group)
);

CREATE TABLE gov_decisions (
    id           INTEGER PRIMARY KEY,
    meeting_id   INTEGER NOT NULL REFERENCES gov_meetings(id),
    text         TEXT NOT NULL,
    responsible  TEXT NOT NULL,
    due_on       TEXT NOT NULL,
    done_on      TEXT
);
CREATE INDEX gov_decisions_meeting ON gov_decisions(meeting_id);

CREATE TABLE gov_meeting_alerts (
    meeting_id  INTEGER NOT NULL REFERENCES gov_meetings(id),
    alert_id    INTEGER NOT NULL REFERENCES alerts(id),
    PRIMARY KEY (meeting_id, alert_id)
);

CREATE TABLE gov_plans (
    id            INTEGER PRIMARY KEY,
    committee_id  INTEGER NOT NULL REFERENCES gov_committees(id),
    title         TEXT NOT NULL,
    starts_on     TEXT NOT NULL,
    ends_on       TEXT NOT NULL,
    created_at    TEXT NOT NULL
);

CREATE TABLE gov_plan_actions (
    id           INTEGER PRIMARY KEY,
    plan_id      INTEGER NOT NULL REFERENCES gov_plans(id),
    action       TEXT NOT NULL,
    responsible  TEXT NOT NULL,
    deadline     TEXT NOT NULL,
    status       TEXT NOT NULL
);

-- A resource person. Phone and email are sealed with the keyring (context bound to the row);
-- they are erased when consent is withdrawn. Public views list only published, consented,
-- not withdrawn entries.
CREATE TABLE gov_directory (
    id                       INTEGER PRIMARY KEY,
    full_name                TEXT NOT NULL,
    sex                      TEXT NOT NULL,
    age_group                TEXT NOT NULL,
    organisation             TEXT,
    area_code                TEXT NOT NULL REFERENCES areas(code),
    area_path                TEXT NOT NULL,
    expertise                TEXT NOT NULL,   -- JSON array of codes, e.g. ["mediation","gender"]
    languages                TEXT NOT NULL,   -- JSON array of folded names
    phone_sealed             TEXT,
    email_sealed             TEXT,
    vis_name                 TEXT NOT NULL,
    vis_organisation         TEXT NOT NULL,
    vis_phone                TEXT NOT NULL,
    vis_email                TEXT NOT NULL,
    consent_on               TEXT,
    consent_method           TEXT,
    published                BOOLEAN NOT NULL DEFAULT FALSE,
    withdrawn_on             TEXT,
    created_at               TEXT NOT NULL,
    updated_at               TEXT NOT NULL
);
CREATE INDEX gov_directory_area ON gov_directory(area_path);
