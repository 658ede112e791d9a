-- CountWaitingEvents (the health page's waiting writes, a paused
-- connection's backlog) reads only the events not done yet: without this
-- index it walked every event of the connection in events_health (80 ms
-- at a million events). Queries must name the states literally, as the
-- index does, for SQLite to use it.
CREATE INDEX events_waiting ON events (tenant_id, connection_id, state) WHERE state IN ('pending', 'queued');
