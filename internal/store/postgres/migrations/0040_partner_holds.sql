-- IF NOT EXISTS: a migration test replays the migrations after 0004.
-- A partner's Retry-After for a tenant, shared by every process: one
-- worker's 429 holds the others' writes to that partner too.
CREATE TABLE IF NOT EXISTS partner_holds (
    tenant_id  text        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    provider   text        NOT NULL,
    until      timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, provider)
);
CREATE INDEX IF NOT EXISTS partner_holds_until ON partner_holds (until);
