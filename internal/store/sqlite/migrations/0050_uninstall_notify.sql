-- One uninstall per installation: its progress, step by step, kept after
-- the installation's rows are gone (it holds counts, never data).
CREATE TABLE uninstalls (
    tenant_id       TEXT    NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    installation_id TEXT    NOT NULL,
    contract        TEXT    NOT NULL,
    actor           TEXT    NOT NULL,
    state           TEXT    NOT NULL,
    step            TEXT    NOT NULL,
    steps           TEXT    NOT NULL DEFAULT '[]',
    purge_after     INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, installation_id)
) STRICT;

-- Where the host product hears about integration events: signed change
-- notification endpoints and iPaaS REST hooks. Secrets are sealed by the
-- vault.
CREATE TABLE notify_endpoints (
    tenant_id           TEXT    NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id                  TEXT    NOT NULL,
    kind                TEXT    NOT NULL,
    url                 TEXT    NOT NULL,
    event_types         TEXT    NOT NULL DEFAULT '[]',
    secret              BLOB    NOT NULL,
    previous_secret     BLOB,
    previous_expires_at INTEGER,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
) STRICT;

-- The delivery log, and the outbox: a change writes its deliveries in its
-- own transaction (state pending); a relay hands them to the queue.
CREATE TABLE notify_deliveries (
    tenant_id   TEXT    NOT NULL,
    id          TEXT    NOT NULL,
    endpoint_id TEXT    NOT NULL,
    event_type  TEXT    NOT NULL,
    payload     BLOB    NOT NULL,
    state       TEXT    NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_status INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, endpoint_id) REFERENCES notify_endpoints (tenant_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX notify_deliveries_endpoint ON notify_deliveries (tenant_id, endpoint_id, created_at);
CREATE INDEX notify_deliveries_pending ON notify_deliveries (created_at) WHERE state = 'pending';
