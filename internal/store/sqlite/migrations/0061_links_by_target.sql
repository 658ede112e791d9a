-- Two-way sync finds the record a partner object belongs to, and what
-- Accord last wrote there, by the link's target.
CREATE INDEX links_target ON links (tenant_id, installation_id, target_object, target_id);
