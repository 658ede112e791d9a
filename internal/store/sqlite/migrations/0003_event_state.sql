-- Event outbox state: who owns delivering the event (store.EventPending,
-- EventQueued, EventDone). New events default to pending: the receiving
-- process delivers them in memory and a sweeper queues those that linger.
ALTER TABLE events ADD COLUMN state TEXT NOT NULL DEFAULT 'pending'
    CHECK (state IN ('pending', 'queued', 'done'));

-- Every event stored before this migration was inserted together with its
-- delivery job: a job owns it. Left pending, the sweeper would queue the
-- whole history again.
UPDATE events SET state = 'queued';

-- The sweeper's scan: only pending events, oldest first. Queries must name
-- state = 'pending' literally (not as a parameter) for SQLite to use it.
CREATE INDEX events_pending ON events (received_at) WHERE state = 'pending';
