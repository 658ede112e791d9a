-- Accord's own tables (River's come from River's migrator, in the same
-- schema). Every tenant table's keys lead with tenant_id.

CREATE TABLE tenants (
    id         text        NOT NULL PRIMARY KEY,
    name       text        NOT NULL,
    created_at timestamptz NOT NULL
);

CREATE TABLE connections (
    tenant_id        text        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id               text        NOT NULL,
    provider         text        NOT NULL,
    state            text        NOT NULL,
    state_reason     text        NOT NULL DEFAULT '',
    secret           bytea,
    granted_scopes   text[]      NOT NULL DEFAULT '{}',
    token_expires_at timestamptz,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

-- Webhook ingress knows only the connection id.
CREATE INDEX connections_id ON connections (id);

CREATE TABLE installations (
    tenant_id        text        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id               text        NOT NULL,
    contract         text        NOT NULL,
    contract_version text        NOT NULL,
    state            text        NOT NULL,
    connections      jsonb       NOT NULL DEFAULT '{}',
    config           jsonb,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE events (
    tenant_id      text        NOT NULL,
    id             text        NOT NULL,
    connection_id  text        NOT NULL,
    dedup_key      text        NOT NULL,
    type           text        NOT NULL,
    object_id      text        NOT NULL,
    object_version bigint      NOT NULL,
    payload        jsonb,
    received_at    timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, connection_id, dedup_key),
    FOREIGN KEY (tenant_id, connection_id) REFERENCES connections (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE links (
    tenant_id       text        NOT NULL,
    installation_id text        NOT NULL,
    source_object   text        NOT NULL,
    source_id       text        NOT NULL,
    target_object   text        NOT NULL,
    target_id       text        NOT NULL,
    version         bigint      NOT NULL,
    fields          jsonb,
    updated_at      timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, installation_id, source_object, source_id, target_object),
    FOREIGN KEY (tenant_id, installation_id) REFERENCES installations (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE record_errors (
    tenant_id       text        NOT NULL,
    id              text        NOT NULL,
    installation_id text        NOT NULL,
    event_id        text        NOT NULL DEFAULT '',
    object          text        NOT NULL,
    source_id       text        NOT NULL,
    class           text        NOT NULL,
    message         text        NOT NULL,
    remediation     text        NOT NULL,
    status          text        NOT NULL,
    job_kind        text        NOT NULL DEFAULT '',
    job_args        jsonb,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, installation_id) REFERENCES installations (tenant_id, id) ON DELETE CASCADE
);

CREATE INDEX record_errors_list ON record_errors (tenant_id, installation_id, status, created_at);
CREATE INDEX record_errors_recent ON record_errors (tenant_id, created_at);

-- detail is text, not jsonb: it is hashed byte for byte, and jsonb would
-- reformat it. The check still rejects what is not JSON.
CREATE TABLE audit_log (
    tenant_id  text        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    seq        bigint      NOT NULL,
    actor      text        NOT NULL,
    action     text        NOT NULL,
    subject    text        NOT NULL,
    detail     text        CHECK (detail IS NULL OR detail::jsonb IS NOT NULL),
    prev_hash  bytea,
    hash       bytea       NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, seq)
);

CREATE TABLE data_keys (
    tenant_id     text        NOT NULL PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    master_key_id text        NOT NULL,
    wrapped       bytea       NOT NULL,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);

CREATE TABLE oauth_states (
    tenant_id     text        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    state         text        NOT NULL,
    provider      text        NOT NULL,
    connection_id text        NOT NULL DEFAULT '',
    sealed        bytea,
    expires_at    timestamptz NOT NULL,
    created_at    timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, state)
);

-- The callback knows only the state; it is random and unguessable.
CREATE INDEX oauth_states_state ON oauth_states (state);
