-- Object leases: serialise writes to one partner object across processes.
-- expires_at: INTEGER Unix nanoseconds (UTC), from the store's clock.
CREATE TABLE leases (
    tenant_id  TEXT    NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    key        TEXT    NOT NULL,
    holder     TEXT    NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, key)
) STRICT;
