-- Accord's own tables (River's come from River's migrator).
-- Timestamps: INTEGER Unix nanoseconds, UTC, truncated to the microsecond.
-- JSON: TEXT checked with json_valid. Every tenant table's keys lead with tenant_id.

CREATE TABLE tenants (
    id         TEXT    NOT NULL PRIMARY KEY,
    name       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE connections (
    tenant_id        TEXT    NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id               TEXT    NOT NULL,
    provider         TEXT    NOT NULL,
    state            TEXT    NOT NULL,
    state_reason     TEXT    NOT NULL DEFAULT '',
    secret           BLOB,
    granted_scopes   TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(granted_scopes)),
    token_expires_at INTEGER,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
) STRICT;

-- Webhook ingress knows only the connection id.
CREATE INDEX connections_id ON connections (id);

CREATE TABLE installations (
    tenant_id        TEXT    NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id               TEXT    NOT NULL,
    contract         TEXT    NOT NULL,
    contract_version TEXT    NOT NULL,
    state            TEXT    NOT NULL,
    connections      TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(connections)),
    config           TEXT    CHECK (config IS NULL OR json_valid(config)),
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
) STRICT;

CREATE TABLE events (
    tenant_id      TEXT    NOT NULL,
    id             TEXT    NOT NULL,
    connection_id  TEXT    NOT NULL,
    dedup_key      TEXT    NOT NULL,
    type           TEXT    NOT NULL,
    object_id      TEXT    NOT NULL,
    object_version INTEGER NOT NULL,
    payload        TEXT    CHECK (payload IS NULL OR json_valid(payload)),
    received_at    INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, connection_id, dedup_key),
    FOREIGN KEY (tenant_id, connection_id) REFERENCES connections (tenant_id, id) ON DELETE CASCADE
) STRICT;

CREATE TABLE links (
    tenant_id       TEXT    NOT NULL,
    installation_id TEXT    NOT NULL,
    source_object   TEXT    NOT NULL,
    source_id       TEXT    NOT NULL,
    target_object   TEXT    NOT NULL,
    target_id       TEXT    NOT NULL,
    version         INTEGER NOT NULL,
    fields          TEXT    CHECK (fields IS NULL OR json_valid(fields)),
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, installation_id, source_object, source_id, target_object),
    FOREIGN KEY (tenant_id, installation_id) REFERENCES installations (tenant_id, id) ON DELETE CASCADE
) STRICT;

CREATE TABLE record_errors (
    tenant_id       TEXT    NOT NULL,
    id              TEXT    NOT NULL,
    installation_id TEXT    NOT NULL,
    event_id        TEXT    NOT NULL DEFAULT '',
    object          TEXT    NOT NULL,
    source_id       TEXT    NOT NULL,
    class           TEXT    NOT NULL,
    message         TEXT    NOT NULL,
    remediation     TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    job_kind        TEXT    NOT NULL DEFAULT '',
    job_args        TEXT    CHECK (job_args IS NULL OR json_valid(job_args)),
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, installation_id) REFERENCES installations (tenant_id, id) ON DELETE CASCADE
) STRICT;

CREATE INDEX record_errors_list ON record_errors (tenant_id, installation_id, status, created_at);
CREATE INDEX record_errors_recent ON record_errors (tenant_id, created_at);

-- detail is hashed byte for byte, so it is kept exactly as given.
CREATE TABLE audit_log (
    tenant_id  TEXT    NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    actor      TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    subject    TEXT    NOT NULL,
    detail     TEXT    CHECK (detail IS NULL OR json_valid(detail)),
    prev_hash  BLOB,
    hash       BLOB    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, seq)
) STRICT;

CREATE TABLE data_keys (
    tenant_id     TEXT    NOT NULL PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    master_key_id TEXT    NOT NULL,
    wrapped       BLOB    NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE oauth_states (
    tenant_id     TEXT    NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    state         TEXT    NOT NULL,
    provider      TEXT    NOT NULL,
    connection_id TEXT    NOT NULL DEFAULT '',
    sealed        BLOB,
    expires_at    INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, state)
) STRICT;

-- The callback knows only the state; it is random and unguessable.
CREATE INDEX oauth_states_state ON oauth_states (state);
