-- An installation's overrides inside what its contract allows (the JSON of
-- spec.Overrides: replaced mapping rows, switched-off triggers); NULL: none.
ALTER TABLE installations ADD COLUMN overrides TEXT;
