-- The failed record kept with a record error, minimised to the fields the
-- manifest declares and redacted by field type (internal/privacy) before it
-- is written: what an admin needs to recognise the record, not its data.
-- IF NOT EXISTS: tests replay migrations on a schema that may have it.
ALTER TABLE record_errors ADD COLUMN IF NOT EXISTS sample jsonb;
