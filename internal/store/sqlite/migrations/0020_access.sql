-- API tokens with roles. Deployment data, not a tenant's: a token without
-- a tenant reaches every tenant, so the key is the token's own id. Only the
-- SHA-256 of the secret is kept. Timestamps: INTEGER Unix nanoseconds.
CREATE TABLE api_tokens (
    id         TEXT    NOT NULL PRIMARY KEY,
    hash       BLOB    NOT NULL UNIQUE,
    name       TEXT    NOT NULL,
    role       TEXT    NOT NULL CHECK (role IN ('admin', 'operator', 'viewer', 'tenant')),
    tenant_id  TEXT    NOT NULL DEFAULT '',
    created_by TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    revoked_at INTEGER,
    CHECK (role <> 'tenant' OR tenant_id <> ''),
    CHECK (role NOT IN ('admin', 'operator') OR tenant_id = '')
) STRICT;

-- Single-use links into a tenant's pages; consumed (deleted) on first use.
CREATE TABLE ui_links (
    tenant_id  TEXT    NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id         TEXT    NOT NULL,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
) STRICT;

CREATE INDEX ui_links_expires ON ui_links (expires_at);
