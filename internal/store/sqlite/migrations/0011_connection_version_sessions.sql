-- version is the connection row's version, bumped by every update: a token
-- refresh stores its result only if nobody changed the row since it read it
-- (compare-and-swap), so two processes never both store a refresh.
-- account_id is the provider account the grant belongs to (OIDC subject or
-- the provider's account id): a reconnect landing on another account is
-- refused unless explicitly allowed.
ALTER TABLE connections ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE connections ADD COLUMN account_id TEXT NOT NULL DEFAULT '';

-- A connect or reconnect link: single use, consumed when its flow starts,
-- deleted when the connection it reconnects is disconnected.
CREATE TABLE connect_sessions (
    tenant_id            TEXT    NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id                   TEXT    NOT NULL,
    provider             TEXT    NOT NULL,
    connection_id        TEXT    NOT NULL DEFAULT '',
    allow_account_change INTEGER NOT NULL DEFAULT 0,
    expires_at           INTEGER NOT NULL,
    created_at           INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
) STRICT;

CREATE INDEX connect_sessions_connection ON connect_sessions (tenant_id, connection_id);
CREATE INDEX oauth_states_connection ON oauth_states (tenant_id, connection_id);
