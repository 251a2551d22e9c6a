-- Results, money and risk (issue 7): programmes with their results framework, actuals,
-- budgets and expenditure, risk register, statistical returns (SQLite).
-- Amounts are integer minor units (cents); rates and decimals are exact text, never floats.

CREATE TABLE programmes (
    id          INTEGER PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    first_year  INTEGER NOT NULL,
    last_year   INTEGER NOT NULL,
    currency    TEXT NOT NULL,
    area_code   TEXT NOT NULL REFERENCES areas(code),
    cost_rules  TEXT NOT NULL,            -- JSON: management rule, GMS rates (default, per agency, per year), levy, rounding
    iati_identifier TEXT,
    reporting_org   TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE fw_results (
    id           INTEGER PRIMARY KEY,
    programme_id INTEGER NOT NULL REFERENCES programmes(id),
    code         TEXT NOT NULL,
    title        TEXT NOT NULL,
    position     INTEGER NOT NULL,
    UNIQUE (programme_id, code)
);

CREATE TABLE fw_outputs (
    id           INTEGER PRIMARY KEY,
    programme_id INTEGER NOT NULL REFERENCES programmes(id),
    code         TEXT NOT NULL,
    result_code  TEXT NOT NULL,
    title        TEXT NOT NULL,
    position     INTEGER NOT NULL,
    UNIQUE (programme_id, code)
);

CREATE TABLE fw_indicators (
    id           INTEGER PRIMARY KEY,
    programme_id INTEGER NOT NULL REFERENCES programmes(id),
    code         TEXT NOT NULL,
    result_code  TEXT NOT NULL,
    output_code  TEXT,
    label        TEXT NOT NULL,
    unit         TEXT NOT NULL,
    aggregation  TEXT NOT NULL,
    cumulative   TEXT NOT NULL,
    responsible  TEXT,
    source       TEXT NOT NULL DEFAULT '{"kind":"manual"}',  -- JSON: manual, or computed from Vigie's records
    doc          TEXT NOT NULL,           -- JSON: the whole indicator (baseline, targets per year, means of verification, disaggregations)
    position     INTEGER NOT NULL,
    updated_at   TEXT NOT NULL,
    UNIQUE (programme_id, code)
);

CREATE TABLE fw_actuals (
    id            INTEGER PRIMARY KEY,
    indicator_id  INTEGER NOT NULL REFERENCES fw_indicators(id),
    period        TEXT NOT NULL,          -- 2022, 2022-S1, 2022-Q3, 2022-07
    year          INTEGER NOT NULL,
    area_code     TEXT NOT NULL REFERENCES areas(code),
    area_path     TEXT NOT NULL,
    slice         TEXT NOT NULL DEFAULT '',   -- '' total; 'sex=F', 'age_group=15-24', 'other:fonction=juge'
    value         TEXT NOT NULL,          -- exact decimal
    note          TEXT,
    entered_by    INTEGER REFERENCES users(id),
    entered_at    TEXT NOT NULL,
    UNIQUE (indicator_id, period, area_code, slice)
);
CREATE INDEX fw_actuals_area ON fw_actuals(area_path, year);

CREATE TABLE budget_lines (
    id             INTEGER PRIMARY KEY,
    programme_id   INTEGER NOT NULL REFERENCES programmes(id),
    position       INTEGER NOT NULL,
    source_line    INTEGER NOT NULL,      -- line in the imported file
    kind           TEXT NOT NULL,         -- line, technical_support, result_subtotal, activities_total, management, project_total, indirect, levy, grand_total
    output_code    TEXT,
    result_code    TEXT,
    label          TEXT NOT NULL,
    agencies       TEXT NOT NULL DEFAULT '[]',
    funding_source TEXT,
    printed_total  INTEGER NOT NULL       -- minor units
);
CREATE INDEX budget_lines_programme ON budget_lines(programme_id, position);

CREATE TABLE budget_amounts (
    line_id  INTEGER NOT NULL REFERENCES budget_lines(id),
    year     INTEGER NOT NULL,
    amount   INTEGER NOT NULL,            -- minor units
    PRIMARY KEY (line_id, year)
);

CREATE TABLE expenditures (
    id             INTEGER PRIMARY KEY,
    programme_id   INTEGER NOT NULL REFERENCES programmes(id),
    output_code    TEXT,
    year           INTEGER NOT NULL,
    spent_on       TEXT,                  -- YYYY-MM-DD
    agency         TEXT,
    funding_source TEXT,
    description    TEXT NOT NULL,
    amount         INTEGER NOT NULL,      -- minor units of `currency`
    currency       TEXT NOT NULL,
    rate           TEXT,                  -- to the programme currency, exact decimal; required if currency differs
    amount_programme INTEGER NOT NULL,    -- minor units of the programme currency
    entered_by     INTEGER REFERENCES users(id),
    entered_at     TEXT NOT NULL
);
CREATE INDEX expenditures_programme ON expenditures(programme_id, year);

-- Apportionment vs expenditure by class of expenditure (peacekeeping performance report layout).
CREATE TABLE variance_lines (
    id            INTEGER PRIMARY KEY,
    programme_id  INTEGER NOT NULL REFERENCES programmes(id),
    position      INTEGER NOT NULL,
    source_line   INTEGER NOT NULL,
    section       TEXT,
    label_fr      TEXT NOT NULL,
    label_en      TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('class','staff_assessment','in_kind')),
    apportionment INTEGER NOT NULL,
    expenditure   INTEGER NOT NULL
);

CREATE TABLE risks (
    id           INTEGER PRIMARY KEY,
    programme_id INTEGER NOT NULL REFERENCES programmes(id),
    number       INTEGER NOT NULL,
    description  TEXT NOT NULL,
    category     TEXT NOT NULL,
    likelihood   INTEGER NOT NULL CHECK (likelihood BETWEEN 1 AND 5),
    impact       INTEGER NOT NULL CHECK (impact BETWEEN 1 AND 5),
    likelihood_as_written TEXT NOT NULL DEFAULT '',
    impact_as_written     TEXT NOT NULL DEFAULT '',
    mitigation   TEXT NOT NULL DEFAULT '[]',
    owner        TEXT,
    status       TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    UNIQUE (programme_id, number)
);

CREATE TABLE risk_reviews (
    id          INTEGER PRIMARY KEY,
    risk_id     INTEGER NOT NULL REFERENCES risks(id),
    reviewed_on TEXT NOT NULL,            -- YYYY-MM-DD
    likelihood  INTEGER NOT NULL CHECK (likelihood BETWEEN 1 AND 5),
    impact      INTEGER NOT NULL CHECK (impact BETWEEN 1 AND 5),
    status      TEXT NOT NULL,
    note        TEXT,
    reviewed_by INTEGER REFERENCES users(id),
    created_at  TEXT NOT NULL
);
CREATE INDEX risk_reviews_risk ON risk_reviews(risk_id, reviewed_on);

-- Statistical returns: periodic data sets an institution sends (crimes recorded, cases judged, detainees).
CREATE TABLE return_datasets (
    id          INTEGER PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    org_id      INTEGER NOT NULL REFERENCES organisations(id),
    area_code   TEXT NOT NULL REFERENCES areas(code),
    area_path   TEXT NOT NULL,
    periodicity TEXT NOT NULL CHECK (periodicity IN ('monthly','quarterly')),
    due_days    INTEGER NOT NULL,         -- days after the period ends for a return to be on time
    fields      TEXT NOT NULL,            -- JSON list of {code, label}
    created_at  TEXT NOT NULL
);

CREATE TABLE return_submissions (
    id           INTEGER PRIMARY KEY,
    dataset_id   INTEGER NOT NULL REFERENCES return_datasets(id),
    period       TEXT NOT NULL,           -- 2026-03 or 2026-Q1
    data         TEXT NOT NULL,           -- JSON {field: exact decimal}
    submitted_by INTEGER REFERENCES users(id),
    submitted_at TEXT NOT NULL,
    UNIQUE (dataset_id, period)
);
