-- Alert facts (issue 11, benchmark 3): the few figures of an alert's lifecycle that the
-- indicators need, kept as narrow columns next to the JSON document so that SQL can aggregate
-- them (instead of deserialising every document of the period in Rust). Written from the
-- domain Alert by alerts::save_doc in the same statement as the document (AlertFacts::of);
-- rows written before this migration are filled by alerts::backfill_facts at start (facts = 0).
ALTER TABLE alerts ADD COLUMN acknowledged_at TEXT;
ALTER TABLE alerts ADD COLUMN responded_at TEXT;
-- Deadline of the first level notified; NULL when no level was ever notified.
ALTER TABLE alerts ADD COLUMN first_deadline TEXT;
-- 1 acknowledged by the first deadline, 0 after it, NULL not acknowledged (or no deadline).
ALTER TABLE alerts ADD COLUMN ack_in_time INTEGER;
-- 1 when closed, cancelled or declared a false alarm by the first deadline.
ALTER TABLE alerts ADD COLUMN withdrawn_in_time INTEGER NOT NULL DEFAULT 0;
ALTER TABLE alerts ADD COLUMN responded INTEGER NOT NULL DEFAULT 0;
-- alerted_at − reported_at and responded_at − alerted_at in nanoseconds (exact medians).
ALTER TABLE alerts ADD COLUMN report_to_alert_ns INTEGER;
ALTER TABLE alerts ADD COLUMN alert_to_response_ns INTEGER;
ALTER TABLE alerts ADD COLUMN facts INTEGER NOT NULL DEFAULT 0;
CREATE INDEX alerts_facts_pending ON alerts(id) WHERE facts = 0;

-- Indicators read one period by reception time: this index covers every column they read,
-- so SQLite answers from the index without visiting the (wide) rows. It replaces alerts_reported.
DROP INDEX alerts_reported;
CREATE INDEX alerts_indicators ON alerts(reported_at, area_path, merged_into, state, outcome, first_deadline,
    ack_in_time, withdrawn_in_time, responded, report_to_alert_ns, alert_to_response_ns);
-- Open alerts by severity (the dashboard): a covering partial index; SQLite uses a partial
-- index only when the query repeats its condition, which alerts::open_counts does.
DROP INDEX alerts_open;
CREATE INDEX alerts_open ON alerts(severity, state, area_path, merged_into, needs_attention, wake_at)
    WHERE state NOT IN ('closed', 'false_alarm', 'cancelled');
