-- Hourly counts of each connection's done events by outcome, for the
-- Integration Health page's 24-hour and 7-day windows. Filled on read for
-- hours that ended over an hour ago with nothing left in flight, so a page
-- reads at most a few hundred rows whatever the traffic. hour: Unix hours
-- of received_at. An hour without events has one row with outcome '' and
-- events 0, so it is not counted again.
CREATE TABLE event_rollups (
    tenant_id     text   NOT NULL,
    connection_id text   NOT NULL,
    hour          bigint NOT NULL,
    outcome       text   NOT NULL,
    events        bigint NOT NULL,
    PRIMARY KEY (tenant_id, connection_id, hour, outcome),
    FOREIGN KEY (tenant_id, connection_id) REFERENCES connections (tenant_id, id) ON DELETE CASCADE
);
