-- The latest reconciliation of each installation: a full compare of the
-- partners' objects with what Accord wrote, kept as its JSON report.
CREATE TABLE IF NOT EXISTS reconciliations (
    tenant_id       text        NOT NULL,
    installation_id text        NOT NULL,
    started_at      timestamptz NOT NULL,
    finished_at     timestamptz,
    report          jsonb       NOT NULL,
    PRIMARY KEY (tenant_id, installation_id),
    FOREIGN KEY (tenant_id, installation_id) REFERENCES installations (tenant_id, id) ON DELETE CASCADE
);
