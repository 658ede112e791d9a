-- Where each installation's sync of a schedule trigger stands: the run's
-- cursor and watermark advance in the transaction that stores the page's
-- events, so a crash resumes at the page it stopped on.
CREATE TABLE IF NOT EXISTS sync_states (
    tenant_id         text        NOT NULL,
    installation_id   text        NOT NULL,
    trigger_name      text        NOT NULL,
    running           boolean     NOT NULL DEFAULT false,
    cursor            text        NOT NULL DEFAULT '',
    run_since         bigint      NOT NULL DEFAULT 0,
    run_max           bigint      NOT NULL DEFAULT 0,
    run_started_at    timestamptz,
    run_records       bigint      NOT NULL DEFAULT 0,
    run_events        bigint      NOT NULL DEFAULT 0,
    watermark         bigint      NOT NULL DEFAULT 0,
    has_watermark     boolean     NOT NULL DEFAULT false,
    runs              bigint      NOT NULL DEFAULT 0,
    last_completed_at timestamptz,
    last_error        text        NOT NULL DEFAULT '',
    next_run_at       timestamptz,
    updated_at        timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, installation_id, trigger_name),
    FOREIGN KEY (tenant_id, installation_id) REFERENCES installations (tenant_id, id) ON DELETE CASCADE
);
