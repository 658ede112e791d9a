-- A partner's Retry-After for a tenant, shared by every process: one
-- worker's 429 holds the others' writes to that partner too.
CREATE TABLE partner_holds (
    tenant_id  TEXT    NOT NULL,
    provider   TEXT    NOT NULL,
    until      INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, provider),
    FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
) STRICT;
CREATE INDEX partner_holds_until ON partner_holds (until);
