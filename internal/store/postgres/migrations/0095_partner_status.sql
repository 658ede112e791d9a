-- Whether a partner (a provider, across tenants) was last recorded
-- degraded: the status monitors of every process record its transitions
-- here, so that each transition is recorded, and notified, once.
-- IF NOT EXISTS: tests replay the migrations after 0004.
CREATE TABLE IF NOT EXISTS partner_status (
    provider    text        NOT NULL PRIMARY KEY,
    degraded    boolean     NOT NULL,
    reason      text        NOT NULL DEFAULT '',
    changed_at  timestamptz NOT NULL
);
