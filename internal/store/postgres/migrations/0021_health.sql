-- The Integration Health page counts a connection's events in a window by
-- state and outcome, and finds its newest applied one. Covering (INCLUDE):
-- the counts can be index-only scans.
CREATE INDEX events_health ON events (tenant_id, connection_id, received_at) INCLUDE (state, outcome);
