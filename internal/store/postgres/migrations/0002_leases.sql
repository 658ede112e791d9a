-- Object leases: serialise writes to one partner object across processes.
-- expires_at comes from the store's clock, not the server's now().
CREATE TABLE leases (
    tenant_id  text        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    key        text        NOT NULL,
    holder     text        NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, key)
);
