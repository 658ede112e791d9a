-- A link whose source record was deleted (on_delete): a tombstone that
-- keeps the version, so an older event arriving late is stale instead of
-- writing the target again.
ALTER TABLE links ADD COLUMN source_deleted INTEGER NOT NULL DEFAULT 0;
