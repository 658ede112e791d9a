-- API tokens with roles. Deployment data, not a tenant's: a token without
-- a tenant reaches every tenant, so the key is the token's own id. Only the
-- SHA-256 of the secret is kept.
CREATE TABLE api_tokens (
    id         text        NOT NULL PRIMARY KEY,
    hash       bytea       NOT NULL UNIQUE,
    name       text        NOT NULL,
    role       text        NOT NULL CHECK (role IN ('admin', 'operator', 'viewer', 'tenant')),
    tenant_id  text        NOT NULL DEFAULT '',
    created_by text        NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL,
    expires_at timestamptz,
    revoked_at timestamptz,
    CHECK (role <> 'tenant' OR tenant_id <> ''),
    CHECK (role NOT IN ('admin', 'operator') OR tenant_id = '')
);

-- Single-use links into a tenant's pages; consumed (deleted) on first use.
CREATE TABLE ui_links (
    tenant_id  text        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id         text        NOT NULL,
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE INDEX ui_links_expires ON ui_links (expires_at);
