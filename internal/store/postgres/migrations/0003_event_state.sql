-- Event outbox state: who owns delivering the event (store.EventPending,
-- EventQueued, EventDone). New events default to pending: the receiving
-- process delivers them in memory and a sweeper queues those that linger.
--
-- Every event stored before this migration was inserted together with its
-- delivery job, so existing rows get 'queued' (left pending, the sweeper
-- would queue the whole history again); the default then becomes
-- 'pending'. Both steps change only the catalog, not the rows; the CHECK
-- scans the table once.
ALTER TABLE events ADD COLUMN state text NOT NULL DEFAULT 'queued'
    CHECK (state IN ('pending', 'queued', 'done'));
ALTER TABLE events ALTER COLUMN state SET DEFAULT 'pending';

-- The sweeper's scan: only pending events, oldest first.
CREATE INDEX events_pending ON events (received_at) WHERE state = 'pending';
