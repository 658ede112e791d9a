-- Leases held by a process for itself, not for a tenant's object: the
-- queue's heartbeat (queue-process:<client id>) says the process that ran
-- a job is still alive. Not tenant data, so no tenant_id.
-- expires_at: INTEGER Unix nanoseconds (UTC), from the store's clock.
CREATE TABLE process_leases (
    key        TEXT    NOT NULL PRIMARY KEY,
    holder     TEXT    NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;
