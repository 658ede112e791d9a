-- Idempotent (IF NOT EXISTS): tests replay migrations from an older schema.
-- version is the connection row's version, bumped by every update: a token
-- refresh stores its result only if nobody changed the row since it read it
-- (compare-and-swap), so two processes never both store a refresh.
-- account_id is the provider account the grant belongs to (OIDC subject or
-- the provider's account id): a reconnect landing on another account is
-- refused unless explicitly allowed.
ALTER TABLE connections ADD COLUMN IF NOT EXISTS version bigint NOT NULL DEFAULT 1;
ALTER TABLE connections ADD COLUMN IF NOT EXISTS account_id text NOT NULL DEFAULT '';

-- A connect or reconnect link: single use, consumed when its flow starts,
-- deleted when the connection it reconnects is disconnected.
CREATE TABLE IF NOT EXISTS connect_sessions (
    tenant_id            text        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id                   text        NOT NULL,
    provider             text        NOT NULL,
    connection_id        text        NOT NULL DEFAULT '',
    allow_account_change boolean     NOT NULL DEFAULT false,
    expires_at           timestamptz NOT NULL,
    created_at           timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE INDEX IF NOT EXISTS connect_sessions_connection ON connect_sessions (tenant_id, connection_id);
CREATE INDEX IF NOT EXISTS oauth_states_connection ON oauth_states (tenant_id, connection_id);
