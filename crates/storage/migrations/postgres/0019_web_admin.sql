-- Web administration (issue 8).
-- An escalation rule is disabled, never deleted: the alerts it escalated still name its levels.
ALTER TABLE escalation_rules ADD COLUMN disabled_at TIMESTAMPTZ;
ALTER TABLE escalation_rules ADD COLUMN updated_at TIMESTAMPTZ;
-- A form uploaded from the web starts as a draft (open = FALSE, closed_at NULL); publishing
-- opens it to phones; closing sets closed_at. Forms sent to the API stay open at once.
ALTER TABLE forms ADD COLUMN closed_at TIMESTAMPTZ;
-- The map's bounding-box query reads reports by their own point through this index (reports
-- without a point are placed at their area's town, looked up through the areas table).
CREATE INDEX reports_position ON reports(lat, lon) WHERE lat IS NOT NULL;
