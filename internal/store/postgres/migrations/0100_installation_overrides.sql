-- An installation's overrides inside what its contract allows (the JSON of
-- spec.Overrides: replaced mapping rows, switched-off triggers); NULL: none.
-- IF NOT EXISTS: tests replay the migrations after 0004 on a schema that
-- already has it.
ALTER TABLE installations ADD COLUMN IF NOT EXISTS overrides jsonb;
