-- Scale-out (issue 11): reports and ODK submissions are partitioned by month of `received_at`,
-- as the audit log is (0014), so that old months can be detached and archived and each month's
-- indexes stay the size of one month.
--
-- PostgreSQL requires the partition key in every unique constraint of a partitioned table, but
-- intake needs `reports.idempotency_key`, `reports.reference` and `submissions.instance_id`
-- unique across all months (a resent report or ODK submission must be recognised whatever the
-- month), and other tables hold foreign keys to reports(id) and submissions(id). So each table
-- gets a narrow, unpartitioned key table that holds those unique keys; a BEFORE INSERT trigger
-- fills it in the same statement, and the foreign keys point at it. The application's SQL is
-- unchanged on both backends: a duplicate report key still fails with a unique violation (23505),
-- and a resent instanceID is still skipped silently, as `ON CONFLICT DO NOTHING` did.
--
-- Cost, measured in bench/RESULTS.md: one extra index insert per row, and a look-up by id or by
-- key alone probes every month's index (no pruning without `received_at`).

-- The key tables, filled from what is there.
-- `received_at` is there so that a look-up by key joins the one partition that holds the row
-- (run-time pruning); SQLite has views of the same name, so the SQL is the same on both.
CREATE TABLE report_keys (
    id              BIGINT PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    reference       TEXT NOT NULL UNIQUE,
    received_at     TIMESTAMPTZ NOT NULL
);
INSERT INTO report_keys (id, idempotency_key, reference, received_at) SELECT id, idempotency_key, reference, received_at FROM reports;

CREATE TABLE submission_keys (
    id          BIGINT PRIMARY KEY,
    instance_id TEXT NOT NULL UNIQUE,
    received_at TIMESTAMPTZ NOT NULL
);
INSERT INTO submission_keys (id, instance_id, received_at) SELECT id, instance_id, received_at FROM submissions;

-- Foreign keys to reports(id) and submissions(id) now point at the key tables.
ALTER TABLE report_messages DROP CONSTRAINT report_messages_report_id_fkey,
    ADD CONSTRAINT report_messages_report_id_fkey FOREIGN KEY (report_id) REFERENCES report_keys(id);
ALTER TABLE attachments DROP CONSTRAINT attachments_report_id_fkey,
    ADD CONSTRAINT attachments_report_id_fkey FOREIGN KEY (report_id) REFERENCES report_keys(id);
ALTER TABLE sms_inbox DROP CONSTRAINT sms_inbox_report_id_fkey,
    ADD CONSTRAINT sms_inbox_report_id_fkey FOREIGN KEY (report_id) REFERENCES report_keys(id);
ALTER TABLE cases DROP CONSTRAINT cases_report_id_fkey,
    ADD CONSTRAINT cases_report_id_fkey FOREIGN KEY (report_id) REFERENCES report_keys(id);
ALTER TABLE submissions DROP CONSTRAINT submissions_report_id_fkey;
ALTER TABLE submission_attachments DROP CONSTRAINT submission_attachments_submission_id_fkey,
    ADD CONSTRAINT submission_attachments_submission_id_fkey FOREIGN KEY (submission_id) REFERENCES submission_keys(id);

-- reports, partitioned. Identity columns cannot be declared on a partitioned table before
-- PostgreSQL 17: the ids come from a sequence of the same name (pg_get_serial_sequence still
-- finds it).
ALTER TABLE reports RENAME TO reports_unpartitioned;
CREATE SEQUENCE reports_ids AS BIGINT;
SELECT setval('reports_ids', GREATEST(COALESCE((SELECT MAX(id) FROM reports_unpartitioned), 0), (SELECT last_value FROM reports_id_seq)));
CREATE TABLE reports (
    id               BIGINT NOT NULL DEFAULT nextval('reports_ids'),
    idempotency_key  TEXT NOT NULL,
    reference        TEXT NOT NULL,
    alert_id         BIGINT,
    received_at      TIMESTAMPTZ NOT NULL,
    occurred_at      TIMESTAMPTZ NOT NULL,
    category_code    TEXT NOT NULL,
    category_given   TEXT,
    severity         INTEGER NOT NULL,
    text             TEXT NOT NULL,
    area_code        TEXT,
    area_path        TEXT COLLATE "C",
    lat              DOUBLE PRECISION,
    lon              DOUBLE PRECISION,
    place_name       TEXT,
    reporter_kind    TEXT NOT NULL,
    reporter_user_id BIGINT,
    reporter_contact TEXT,
    reporter_index   TEXT,
    channel          TEXT NOT NULL,
    language         TEXT NOT NULL,
    flags            TEXT NOT NULL DEFAULT '[]',
    verification     TEXT NOT NULL DEFAULT 'pending',
    grade            TEXT,
    verified_by      BIGINT,
    verified_at      TIMESTAMPTZ
) PARTITION BY RANGE (received_at);
-- Rows outside every monthly partition (a clock far off) are kept, never refused.
CREATE TABLE reports_default PARTITION OF reports DEFAULT;
-- Months of the existing rows (at most ten years back: older rows stay in the default
-- partition) up to three months ahead; later months are made at start-up and every 6 h.
SELECT vigie_ensure_month_partitions('reports',
    GREATEST(COALESCE((SELECT (MIN(received_at) AT TIME ZONE 'UTC')::date FROM reports_unpartitioned), CURRENT_DATE),
             (CURRENT_DATE - interval '10 years')::date),
    (CURRENT_DATE + interval '3 months')::date);
INSERT INTO reports SELECT * FROM reports_unpartitioned;
DROP TABLE reports_unpartitioned;
ALTER SEQUENCE reports_ids RENAME TO reports_id_seq;
ALTER SEQUENCE reports_id_seq OWNED BY reports.id;
-- Constraints and indexes after the copy (faster, and the old names are free again).
ALTER TABLE reports
    ADD CONSTRAINT reports_pkey PRIMARY KEY (id, received_at),
    ADD CONSTRAINT reports_alert_id_fkey FOREIGN KEY (alert_id) REFERENCES alerts(id),
    ADD CONSTRAINT reports_area_code_fkey FOREIGN KEY (area_code) REFERENCES areas(code),
    ADD CONSTRAINT reports_category_code_fkey FOREIGN KEY (category_code) REFERENCES categories(code),
    ADD CONSTRAINT reports_reporter_user_id_fkey FOREIGN KEY (reporter_user_id) REFERENCES users(id),
    ADD CONSTRAINT reports_verified_by_fkey FOREIGN KEY (verified_by) REFERENCES users(id);
CREATE INDEX reports_area ON reports (area_path, received_at);
CREATE INDEX reports_received ON reports (received_at);
CREATE INDEX reports_reporter ON reports (reporter_index);
CREATE INDEX reports_area_occurred_alert ON reports (area_path, occurred_at, alert_id);
CREATE INDEX reports_alert_latest ON reports (alert_id, id);
-- Look-ups by key go through report_keys (no per-month copy of those indexes); by id, the
-- primary key's first column.

-- submissions, partitioned the same way.
ALTER TABLE submissions RENAME TO submissions_unpartitioned;
CREATE SEQUENCE submissions_ids AS BIGINT;
SELECT setval('submissions_ids', GREATEST(COALESCE((SELECT MAX(id) FROM submissions_unpartitioned), 0), (SELECT last_value FROM submissions_id_seq)));
CREATE TABLE submissions (
    id           BIGINT NOT NULL DEFAULT nextval('submissions_ids'),
    form_pk      BIGINT NOT NULL,
    instance_id  TEXT NOT NULL,
    xml          BYTEA NOT NULL,
    data         TEXT NOT NULL,
    warnings     TEXT NOT NULL DEFAULT '[]',
    area_code    TEXT,
    submitted_by BIGINT,
    report_id    BIGINT,
    intake_error TEXT,
    received_at  TIMESTAMPTZ NOT NULL,
    sealed       BOOLEAN NOT NULL DEFAULT FALSE
) PARTITION BY RANGE (received_at);
CREATE TABLE submissions_default PARTITION OF submissions DEFAULT;
SELECT vigie_ensure_month_partitions('submissions',
    GREATEST(COALESCE((SELECT (MIN(received_at) AT TIME ZONE 'UTC')::date FROM submissions_unpartitioned), CURRENT_DATE),
             (CURRENT_DATE - interval '10 years')::date),
    (CURRENT_DATE + interval '3 months')::date);
INSERT INTO submissions SELECT * FROM submissions_unpartitioned;
DROP TABLE submissions_unpartitioned;
ALTER SEQUENCE submissions_ids RENAME TO submissions_id_seq;
ALTER SEQUENCE submissions_id_seq OWNED BY submissions.id;
ALTER TABLE submissions
    ADD CONSTRAINT submissions_pkey PRIMARY KEY (id, received_at),
    ADD CONSTRAINT submissions_form_pk_fkey FOREIGN KEY (form_pk) REFERENCES forms(id),
    ADD CONSTRAINT submissions_submitted_by_fkey FOREIGN KEY (submitted_by) REFERENCES users(id),
    ADD CONSTRAINT submissions_report_id_fkey FOREIGN KEY (report_id) REFERENCES report_keys(id);
CREATE INDEX submissions_form ON submissions (form_pk, received_at);

-- The triggers that keep the key tables (cloned onto every partition, present and future).
-- Added after the copy: the copied rows' keys are already there.
CREATE FUNCTION reports_claim_keys() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- A key already taken fails with a unique violation, as the unique constraint did.
    INSERT INTO report_keys (id, idempotency_key, reference, received_at) VALUES (NEW.id, NEW.idempotency_key, NEW.reference, NEW.received_at);
    RETURN NEW;
END $$;
CREATE TRIGGER reports_claim_keys BEFORE INSERT ON reports FOR EACH ROW EXECUTE FUNCTION reports_claim_keys();

CREATE FUNCTION submissions_claim_keys() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO submission_keys (id, instance_id, received_at) VALUES (NEW.id, NEW.instance_id, NEW.received_at) ON CONFLICT (instance_id) DO NOTHING;
    IF NOT FOUND THEN
        RETURN NULL; -- a resent instanceID: nothing stored, nothing returned (as ON CONFLICT DO NOTHING)
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER submissions_claim_keys BEFORE INSERT ON submissions FOR EACH ROW EXECUTE FUNCTION submissions_claim_keys();

-- The keys never change once written (nothing updates them; this keeps the key tables true).
CREATE FUNCTION keys_unchanged() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%: id, unique keys and received_at cannot change', TG_TABLE_NAME;
END $$;
CREATE TRIGGER reports_keys_unchanged BEFORE UPDATE ON reports FOR EACH ROW
    WHEN (NEW.id IS DISTINCT FROM OLD.id OR NEW.idempotency_key IS DISTINCT FROM OLD.idempotency_key
          OR NEW.reference IS DISTINCT FROM OLD.reference OR NEW.received_at IS DISTINCT FROM OLD.received_at)
    EXECUTE FUNCTION keys_unchanged();
CREATE TRIGGER submissions_keys_unchanged BEFORE UPDATE ON submissions FOR EACH ROW
    WHEN (NEW.id IS DISTINCT FROM OLD.id OR NEW.instance_id IS DISTINCT FROM OLD.instance_id
          OR NEW.received_at IS DISTINCT FROM OLD.received_at)
    EXECUTE FUNCTION keys_unchanged();
