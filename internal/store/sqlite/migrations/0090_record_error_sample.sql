-- The failed record kept with a record error, minimised to the fields the
-- manifest declares and redacted by field type (internal/privacy) before it
-- is written: what an admin needs to recognise the record, not its data.
ALTER TABLE record_errors ADD COLUMN sample TEXT CHECK (sample IS NULL OR json_valid(sample));
