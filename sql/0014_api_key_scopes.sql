-- What an API key may do beyond reading: each scope names one write action. Reading needs
-- no scope; `crawl:request` lets a key ask for a crawl (POST /api/v1/crawl-requests).

ALTER TABLE api_keys ADD COLUMN scopes text[] NOT NULL DEFAULT '{}';
ALTER TABLE api_keys ADD CONSTRAINT api_keys_scopes_known
    CHECK (scopes <@ ARRAY['crawl:request']::text[]);

COMMENT ON COLUMN api_keys.scopes IS 'write actions the key may take (reading needs none)';
