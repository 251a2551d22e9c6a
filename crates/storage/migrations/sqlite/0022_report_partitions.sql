-- Time partitioning is a PostgreSQL matter (see postgres/0022_report_partitions.sql); SQLite,
-- the single-node backend, keeps one table. PostgreSQL keeps the unique keys in two narrow
-- tables that key look-ups go through; here they are views of the tables themselves, so the
-- application's SQL is the same on both backends.
CREATE VIEW report_keys AS SELECT id, idempotency_key, reference, received_at FROM reports;
CREATE VIEW submission_keys AS SELECT id, instance_id, received_at FROM submissions;
