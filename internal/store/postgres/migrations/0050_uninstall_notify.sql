-- Idempotent (IF NOT EXISTS): tests replay migrations from an older schema.
-- One uninstall per installation: its progress, step by step, kept after
-- the installation's rows are gone (it holds counts, never data).
CREATE TABLE IF NOT EXISTS uninstalls (
    tenant_id       text        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    installation_id text        NOT NULL,
    contract        text        NOT NULL,
    actor           text        NOT NULL,
    state           text        NOT NULL,
    step            text        NOT NULL,
    steps           jsonb       NOT NULL DEFAULT '[]',
    purge_after     timestamptz NOT NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, installation_id)
);

-- Where the host product hears about integration events: signed change
-- notification endpoints and iPaaS REST hooks. Secrets are sealed by the
-- vault.
CREATE TABLE IF NOT EXISTS notify_endpoints (
    tenant_id           text        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id                  text        NOT NULL,
    kind                text        NOT NULL,
    url                 text        NOT NULL,
    event_types         jsonb       NOT NULL DEFAULT '[]',
    secret              bytea       NOT NULL,
    previous_secret     bytea,
    previous_expires_at timestamptz,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

-- The delivery log, and the outbox: a change writes its deliveries in its
-- own transaction (state pending); a relay hands them to the queue.
CREATE TABLE IF NOT EXISTS notify_deliveries (
    tenant_id   text        NOT NULL,
    id          text        NOT NULL,
    endpoint_id text        NOT NULL,
    event_type  text        NOT NULL,
    payload     bytea       NOT NULL,
    state       text        NOT NULL,
    attempts    integer     NOT NULL DEFAULT 0,
    last_status integer     NOT NULL DEFAULT 0,
    last_error  text        NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, endpoint_id) REFERENCES notify_endpoints (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS notify_deliveries_endpoint ON notify_deliveries (tenant_id, endpoint_id, created_at);
CREATE INDEX IF NOT EXISTS notify_deliveries_pending ON notify_deliveries (created_at) WHERE state = 'pending';
