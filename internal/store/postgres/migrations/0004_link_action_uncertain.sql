-- Links are keyed by the contract action too: one source record written by
-- two actions is two partner objects. Existing links get action ''.
-- Uncertain marks a write whose answer never came.
ALTER TABLE links ADD COLUMN action text NOT NULL DEFAULT '';
ALTER TABLE links ADD COLUMN uncertain boolean NOT NULL DEFAULT false;
ALTER TABLE links ADD COLUMN uncertain_since timestamptz;
ALTER TABLE links DROP CONSTRAINT links_pkey;
ALTER TABLE links ADD PRIMARY KEY (tenant_id, installation_id, source_object, source_id, target_object, action);

-- The settlement job's scan across tenants: only uncertain links, oldest
-- first.
CREATE INDEX links_uncertain ON links (uncertain_since) WHERE uncertain;
