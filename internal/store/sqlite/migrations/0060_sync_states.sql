-- Where each installation's sync of a schedule trigger stands: the run's
-- cursor and watermark advance in the transaction that stores the page's
-- events, so a crash resumes at the page it stopped on.
CREATE TABLE sync_states (
    tenant_id         TEXT    NOT NULL,
    installation_id   TEXT    NOT NULL,
    trigger_name      TEXT    NOT NULL,
    running           INTEGER NOT NULL DEFAULT 0,
    cursor            TEXT    NOT NULL DEFAULT '',
    run_since         INTEGER NOT NULL DEFAULT 0,
    run_max           INTEGER NOT NULL DEFAULT 0,
    run_started_at    INTEGER,
    run_records       INTEGER NOT NULL DEFAULT 0,
    run_events        INTEGER NOT NULL DEFAULT 0,
    watermark         INTEGER NOT NULL DEFAULT 0,
    has_watermark     INTEGER NOT NULL DEFAULT 0,
    runs              INTEGER NOT NULL DEFAULT 0,
    last_completed_at INTEGER,
    last_error        TEXT    NOT NULL DEFAULT '',
    next_run_at       INTEGER,
    updated_at        INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, installation_id, trigger_name),
    FOREIGN KEY (tenant_id, installation_id) REFERENCES installations (tenant_id, id) ON DELETE CASCADE
) STRICT;
