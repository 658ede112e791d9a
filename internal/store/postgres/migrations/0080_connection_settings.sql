-- A connection's non-secret settings (the provider manifest's
-- connection_settings: a subdomain, a user's email), as a JSON object of
-- strings. Secrets stay in the encrypted secret column. IF NOT EXISTS: tests
-- replay the migrations after 0004 on a schema that already has it.
ALTER TABLE connections ADD COLUMN IF NOT EXISTS settings TEXT NOT NULL DEFAULT '{}';
