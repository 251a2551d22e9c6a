-- How far the start-up pass that seals values older versions stored in clear has looked, per
-- `table.column` (rotation::seal_clear): later start-ups look only at rows after the mark, so
-- start-up does not scan the whole reports table every time (12 s at 10 M reports).
CREATE TABLE sealed_scan_marks (
    column_name TEXT PRIMARY KEY,
    last_id     BIGINT NOT NULL
);
