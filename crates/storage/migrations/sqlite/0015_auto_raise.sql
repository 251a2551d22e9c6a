-- Escalation rules that raise their alert as soon as a trusted source reports it (issue 11.2):
-- the intake transaction queues an `alert_raise` job when such a rule may apply.
ALTER TABLE escalation_rules ADD COLUMN auto_raise BOOLEAN NOT NULL DEFAULT FALSE;
