-- Links are keyed by the contract action too: one source record written by
-- two actions is two partner objects. A key change means a table rebuild in
-- SQLite; existing links get action ''. Uncertain marks a write whose answer
-- never came (uncertain_since: INTEGER Unix nanoseconds, NULL when clean).
CREATE TABLE links_new (
    tenant_id       TEXT    NOT NULL,
    installation_id TEXT    NOT NULL,
    source_object   TEXT    NOT NULL,
    source_id       TEXT    NOT NULL,
    target_object   TEXT    NOT NULL,
    action          TEXT    NOT NULL DEFAULT '',
    target_id       TEXT    NOT NULL,
    version         INTEGER NOT NULL,
    fields          TEXT    CHECK (fields IS NULL OR json_valid(fields)),
    updated_at      INTEGER NOT NULL,
    uncertain       INTEGER NOT NULL DEFAULT 0 CHECK (uncertain IN (0, 1)),
    uncertain_since INTEGER,
    PRIMARY KEY (tenant_id, installation_id, source_object, source_id, target_object, action),
    FOREIGN KEY (tenant_id, installation_id) REFERENCES installations (tenant_id, id) ON DELETE CASCADE
) STRICT;

INSERT INTO links_new (tenant_id, installation_id, source_object, source_id, target_object, action,
                       target_id, version, fields, updated_at)
SELECT tenant_id, installation_id, source_object, source_id, target_object, '',
       target_id, version, fields, updated_at
FROM links;

DROP TABLE links;
ALTER TABLE links_new RENAME TO links;

-- The settlement job's scan across tenants: only uncertain links, oldest
-- first. Queries must name uncertain = 1 literally for SQLite to use it.
CREATE INDEX links_uncertain ON links (uncertain_since) WHERE uncertain = 1;
