-- A connection's non-secret settings (the provider manifest's
-- connection_settings: a subdomain, a user's email), as a JSON object of
-- strings. Secrets stay in the encrypted secret column.
ALTER TABLE connections ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';
