-- API keys: only a hash of each key is stored, never the key itself.

CREATE TABLE api_keys (
    id                     bigserial   PRIMARY KEY,
    name                   text        NOT NULL,
    key_hash               text        NOT NULL,
    key_prefix             text        NOT NULL,
    rate_limit_per_minute  integer     NOT NULL DEFAULT 600,
    created_at             timestamptz NOT NULL DEFAULT now(),
    revoked_at             timestamptz,
    CONSTRAINT api_keys_name_key UNIQUE (name),
    CONSTRAINT api_keys_key_hash_key UNIQUE (key_hash),
    CONSTRAINT api_keys_name_not_blank CHECK (name <> ''),
    CONSTRAINT api_keys_rate_limit_positive CHECK (rate_limit_per_minute > 0),
    CONSTRAINT api_keys_revoked_after_created CHECK (revoked_at IS NULL OR revoked_at >= created_at)
);

COMMENT ON TABLE api_keys IS 'API keys: a hash to look a key up by, and a prefix to show';
COMMENT ON COLUMN api_keys.key_hash IS 'hash of the whole key (the key itself is never stored)';
COMMENT ON COLUMN api_keys.key_prefix IS 'first characters of the key, to recognise it in lists';
