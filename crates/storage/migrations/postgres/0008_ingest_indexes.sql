-- Report intake groups a new report with open events whose reports occurred within the
-- dedup window: without this index that lookup read the whole reports table on every intake.
CREATE INDEX reports_occurred ON reports(occurred_at);
