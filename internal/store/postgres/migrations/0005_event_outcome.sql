-- The final outcome of a done event (applied, stale, filtered,
-- no_installation, failed: the engine's words), '' until then.
ALTER TABLE events ADD COLUMN outcome text NOT NULL DEFAULT '';

-- Retention's scan: only done events, oldest first.
CREATE INDEX events_done ON events (received_at) WHERE state = 'done';

-- Retention of expired OAuth states and leases.
CREATE INDEX oauth_states_expires ON oauth_states (expires_at);
CREATE INDEX leases_expires ON leases (expires_at);
-- A process releases its leases at shutdown.
CREATE INDEX leases_holder ON leases (holder);
