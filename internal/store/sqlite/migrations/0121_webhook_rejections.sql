-- Webhook requests refused per connection, hour (Unix hours) and reason
-- (bad_signature, malformed, too_large, overloaded, not_found). The
-- ingress counts them in memory and adds them every few seconds in one
-- statement, so a flood of forged requests is not a flood of writes.
CREATE TABLE webhook_rejections (
    tenant_id     TEXT    NOT NULL,
    connection_id TEXT    NOT NULL,
    hour          INTEGER NOT NULL,
    reason        TEXT    NOT NULL,
    rejections    INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, connection_id, hour, reason),
    FOREIGN KEY (tenant_id, connection_id) REFERENCES connections (tenant_id, id) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;
