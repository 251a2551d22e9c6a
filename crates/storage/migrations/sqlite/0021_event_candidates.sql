-- The intake writer finds the open events near a new report from this index alone (place,
-- time, event), without reading the reports' rows; it replaces the narrower index of 0008.
CREATE INDEX reports_area_occurred_alert ON reports(area_path, occurred_at, alert_id);
DROP INDEX reports_area_occurred;
-- The latest reports of an event, newest first (the writer compares a new report with them).
CREATE INDEX reports_alert_latest ON reports(alert_id, id);
DROP INDEX reports_alert;
