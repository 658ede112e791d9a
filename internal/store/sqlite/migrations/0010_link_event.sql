-- The event that last wrote a link and when it was received: equal source
-- versions are ordered by receipt (last writer wins), and a re-run of the
-- same event is recognised as a replay instead of being written twice.
ALTER TABLE links ADD COLUMN event_id TEXT NOT NULL DEFAULT '';
ALTER TABLE links ADD COLUMN event_at INTEGER NOT NULL DEFAULT 0;
