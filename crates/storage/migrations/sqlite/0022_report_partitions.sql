-- Time partitioning is a PostgreSQL matter (see postgres/0022_report_partitions.sql); SQLite,
-- the single-node backend, keeps one table. Same number so both backends share one history.
SELECT 1;
