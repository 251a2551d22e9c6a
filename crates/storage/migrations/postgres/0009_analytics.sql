-- Analytics that stay fast at millions of reports (issue 11).
-- Pre-aggregated report counts, kept exact by crates/storage/src/counters.rs in the same
-- transaction as the report they count: one row per (area at every level of the report's
-- ancestry, month of reception, category). Dashboards read a few thousand rows instead of
-- scanning millions. Unplaced reports are counted under area_path '' at depth -1.
CREATE TABLE report_counts (
    depth         INTEGER NOT NULL,           -- 0 = country, 1 = region, 2 = cercle, 3 = commune…
    area_path     TEXT COLLATE "C" NOT NULL,
    month         TEXT NOT NULL,              -- YYYY-MM of received_at (UTC)
    category_code TEXT NOT NULL,
    reports       BIGINT NOT NULL DEFAULT 0,
    verified      BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (depth, area_path, month, category_code)
);

-- Backfill from the reports already stored (same rule as counters::rebuild).
INSERT INTO report_counts (depth, area_path, month, category_code, reports, verified)
SELECT length(a.path) - length(replace(a.path, '/', '')), a.path, to_char(r.received_at AT TIME ZONE 'UTC', 'YYYY-MM'), r.category_code,
       COUNT(*), SUM(CASE WHEN r.verification = 'verified' THEN 1 ELSE 0 END)
FROM reports r JOIN areas a ON r.area_path = a.path OR (r.area_path >= a.path || '/' AND r.area_path < a.path || '0')
GROUP BY 1, 2, 3, 4;
INSERT INTO report_counts (depth, area_path, month, category_code, reports, verified)
SELECT -1, '', to_char(received_at AT TIME ZONE 'UTC', 'YYYY-MM'), category_code, COUNT(*), SUM(CASE WHEN verification = 'verified' THEN 1 ELSE 0 END)
FROM reports WHERE area_path IS NULL GROUP BY 3, 4;

-- The dashboard's open-alert counts touch only open alerts: a partial index keeps them
-- small however many closed alerts accumulate over the years.
CREATE INDEX alerts_open ON alerts(area_path, severity) WHERE state NOT IN ('closed', 'false_alarm', 'cancelled');
-- Indicators read one period of alerts by reception time.
CREATE INDEX alerts_reported ON alerts(reported_at);
