-- Scale-out (issue 11): the audit log is partitioned by month of its timestamp, so that old
-- months can be archived (DETACH + dump) and indexes stay the size of one month's entries.
--
-- PostgreSQL requires the partition key in every unique constraint: the primary key becomes
-- (seq, at). `seq` stays unique because appenders are serialised by an advisory lock and each
-- takes max(seq) + 1 (audit::append); the hash chain would expose any fork.
-- `at` is the exact text that is hashed (ISO-8601 UTC, fixed width): under the "C" collation
-- its byte order is time order, so text range bounds such as '2026-12' .. '2027-01' are months.
--
-- Why not reports and submissions: other tables hold foreign keys to reports(id) (report
-- messages, attachments, SMS inbox, cases, submissions) and to submissions(id), and the app
-- relies on global uniqueness of reports.idempotency_key, reports.reference and
-- submissions.instance_id. Partitioned, each of these would have to include the time column,
-- i.e. no longer be globally unique; see docs/scaling.md for the design that would keep them.

ALTER TABLE audit_log RENAME TO audit_log_unpartitioned;
DROP TRIGGER audit_log_no_change ON audit_log_unpartitioned;
ALTER TABLE audit_log_unpartitioned RENAME CONSTRAINT audit_log_pkey TO audit_log_unpartitioned_pkey;
ALTER INDEX audit_entity RENAME TO audit_entity_unpartitioned;

CREATE TABLE audit_log (
    seq       BIGINT NOT NULL,
    at        TEXT COLLATE "C" NOT NULL,   -- exact text that was hashed
    actor_id  BIGINT,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    entity    TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    detail    TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL,
    PRIMARY KEY (seq, at)
) PARTITION BY RANGE (at);
CREATE INDEX audit_entity ON audit_log(entity, entity_id);
-- Rows outside every monthly partition (a clock far off) are kept, never refused.
CREATE TABLE audit_log_default PARTITION OF audit_log DEFAULT;

-- Creates the monthly partitions of `parent` from `first_month` to `last_month` that do not
-- exist yet; returns how many it made. Run at every start-up and by a periodic job, so the
-- months ahead always exist. Works for text keys (ISO-8601) and timestamptz keys. A month that
-- already has rows in the default partition is left there (warned), never lost.
CREATE FUNCTION vigie_ensure_month_partitions(parent text, first_month date, last_month date) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    m date := date_trunc('month', first_month)::date;
    made integer := 0;
    part text;
    key_column text;
    key_type regtype;
    lo text;
    hi text;
    stray boolean;
BEGIN
    -- Two nodes starting together must not race on CREATE TABLE.
    PERFORM pg_advisory_xact_lock(7452014);
    SELECT a.attname, a.atttypid::regtype INTO key_column, key_type
      FROM pg_partitioned_table p JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]
     WHERE p.partrelid = parent::regclass;
    WHILE m <= last_month LOOP
        part := parent || '_' || to_char(m, 'YYYY_MM');
        IF to_regclass(part) IS NULL THEN
            IF key_type = 'text'::regtype THEN
                lo := to_char(m, 'YYYY-MM');
                hi := to_char(m + interval '1 month', 'YYYY-MM');
            ELSE
                lo := to_char(m, 'YYYY-MM-DD') || ' 00:00:00+00';
                hi := to_char(m + interval '1 month', 'YYYY-MM-DD') || ' 00:00:00+00';
            END IF;
            EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I WHERE %I >= %L AND %I < %L)', parent || '_default', key_column, lo, key_column, hi) INTO stray;
            IF stray THEN
                RAISE WARNING '% has rows of % in its default partition: partition not created', parent, to_char(m, 'YYYY-MM');
            ELSE
                EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)', part, parent, lo, hi);
                made := made + 1;
            END IF;
        END IF;
        m := (m + interval '1 month')::date;
    END LOOP;
    RETURN made;
END $$;

SELECT vigie_ensure_month_partitions('audit_log',
    COALESCE((SELECT left(MIN(at), 10)::date FROM audit_log_unpartitioned WHERE at ~ '^\d{4}-\d{2}-\d{2}'), CURRENT_DATE),
    (CURRENT_DATE + interval '3 months')::date);

INSERT INTO audit_log (seq, at, actor_id, actor, action, entity, entity_id, detail, prev_hash, hash)
SELECT seq, at, actor_id, actor, action, entity, entity_id, detail, prev_hash, hash FROM audit_log_unpartitioned;
DROP TABLE audit_log_unpartitioned;

-- Append-only, as before (the trigger is cloned onto every partition, present and future).
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
