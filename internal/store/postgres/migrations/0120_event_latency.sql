-- done_at: when the event was moved to done (its delivery final, the last
-- partner write made); NULL for events done before this migration.
-- done_at - received_at is the receipt → write latency.
ALTER TABLE events ADD COLUMN IF NOT EXISTS done_at timestamptz;

-- Hourly histograms of the latencies of each connection's applied events,
-- bucketed by store.LatencyBounds, filled on read like event_rollups (same
-- hours, same settling rule). An hour without applied events has one row
-- with bucket -1 and events 0.
CREATE TABLE IF NOT EXISTS event_latency_rollups (
    tenant_id     text   NOT NULL,
    connection_id text   NOT NULL,
    hour          bigint NOT NULL,
    bucket        int    NOT NULL,
    events        bigint NOT NULL,
    PRIMARY KEY (tenant_id, connection_id, hour, bucket),
    FOREIGN KEY (tenant_id, connection_id) REFERENCES connections (tenant_id, id) ON DELETE CASCADE
);
