-- Report intake groups a new report with open events whose reports occurred within the
-- dedup window in the same area, its ancestors or descendants (one indexed SELECT each).
-- Without this index that lookup read every report of the window on every intake, a cost
-- that grew with the table. (No index on occurred_at alone: the planner would prefer it.)
CREATE INDEX reports_area_occurred ON reports(area_path, occurred_at);
