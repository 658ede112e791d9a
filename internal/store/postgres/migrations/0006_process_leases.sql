-- Leases held by a process for itself, not for a tenant's object: the
-- queue's heartbeat (queue-process:<client id>) says the process that ran
-- a job is still alive. Not tenant data, so no tenant_id.
CREATE TABLE process_leases (
    key        text        NOT NULL PRIMARY KEY,
    holder     text        NOT NULL,
    expires_at timestamptz NOT NULL
);
