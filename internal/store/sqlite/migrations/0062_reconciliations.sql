-- The latest reconciliation of each installation: a full compare of the
-- partners' objects with what Accord wrote, kept as its JSON report.
CREATE TABLE reconciliations (
    tenant_id       TEXT    NOT NULL,
    installation_id TEXT    NOT NULL,
    started_at      INTEGER NOT NULL,
    finished_at     INTEGER,
    report          TEXT    NOT NULL CHECK (json_valid(report)),
    PRIMARY KEY (tenant_id, installation_id),
    FOREIGN KEY (tenant_id, installation_id) REFERENCES installations (tenant_id, id) ON DELETE CASCADE
) STRICT;
