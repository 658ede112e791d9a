-- Whether a partner (a provider, across tenants) was last recorded
-- degraded: the status monitors of every process record its transitions
-- here, so that each transition is recorded, and notified, once.
CREATE TABLE partner_status (
    provider    TEXT    NOT NULL PRIMARY KEY,
    degraded    INTEGER NOT NULL,
    reason      TEXT    NOT NULL DEFAULT '',
    changed_at  INTEGER NOT NULL
) STRICT;
