-- Web administration (issue 8).
-- An escalation rule is disabled, never deleted: the alerts it escalated still name its levels.
ALTER TABLE escalation_rules ADD COLUMN disabled_at TEXT;
ALTER TABLE escalation_rules ADD COLUMN updated_at TEXT;
-- A form uploaded from the web starts as a draft (open = FALSE, closed_at NULL); publishing
-- opens it to phones; closing sets closed_at. Forms sent to the API stay open at once.
ALTER TABLE forms ADD COLUMN closed_at TEXT;
