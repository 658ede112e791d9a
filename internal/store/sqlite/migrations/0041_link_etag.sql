-- The partner's ETag from the last answer for a link's object: the
-- If-Match of the next conditional update.
ALTER TABLE links ADD COLUMN etag TEXT NOT NULL DEFAULT '';
