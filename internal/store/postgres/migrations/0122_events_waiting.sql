-- CountWaitingEvents (the health page's waiting writes, a paused
-- connection's backlog) reads only the events not done yet: without this
-- index it walked every event of the connection in events_health.
CREATE INDEX IF NOT EXISTS events_waiting ON events (tenant_id, connection_id, state) WHERE state IN ('pending', 'queued');
