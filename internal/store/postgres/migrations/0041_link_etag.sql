-- The partner's ETag from the last answer for a link's object: the
-- If-Match of the next conditional update. IF NOT EXISTS: a migration
-- test replays the migrations after 0004.
ALTER TABLE links ADD COLUMN IF NOT EXISTS etag text NOT NULL DEFAULT '';
