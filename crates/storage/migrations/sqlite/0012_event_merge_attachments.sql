-- Early warning, analyst tools: merged events and uploaded attachments.
-- An event absorbed by a merge keeps its row (its own history stays readable) and points
-- to the event that took its reports; lists, indicators and escalation skip it.
ALTER TABLE alerts ADD COLUMN merged_into INTEGER REFERENCES alerts(id);
-- Who uploaded an attachment (none: it came with an ODK submission or an SMS gateway).
ALTER TABLE attachments ADD COLUMN uploaded_by INTEGER REFERENCES users(id);
