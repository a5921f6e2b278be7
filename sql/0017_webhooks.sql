-- Webhooks: subscribers to the change feed. Each keeps its own position in the feed
-- (transaction, history row id), moved on only after a change was delivered or given up on;
-- a change given up on after the last retry leaves a dead-letter record.

CREATE TABLE webhooks (
    id bigserial PRIMARY KEY,
    url text NOT NULL CONSTRAINT webhooks_url_http CHECK (url ~* '^https?://[^/?#]+'),
    kinds text[] NOT NULL CONSTRAINT webhooks_kinds_known CHECK (
        cardinality(kinds) > 0
        AND kinds <@ ARRAY['new', 'price', 'availability', 'discontinued']
    ),
    secret text NOT NULL,
    position_txid xid8 NOT NULL,
    position_id bigint NOT NULL,
    delivered bigint NOT NULL DEFAULT 0,
    failed_attempts bigint NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    removed_at timestamptz
);
COMMENT ON TABLE webhooks IS
    'subscribers to the change feed; removed ones stay (removed_at) with their dead letters';

CREATE TABLE webhook_dead_letters (
    id bigserial PRIMARY KEY,
    webhook_id bigint NOT NULL REFERENCES webhooks (id),
    change_id bigint NOT NULL,
    body jsonb NOT NULL,
    attempts integer NOT NULL,
    last_error text NOT NULL,
    failed_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT webhook_dead_letters_once UNIQUE (webhook_id, change_id)
);
COMMENT ON TABLE webhook_dead_letters IS
    'changes a webhook did not accept after its last retry, with the last error';
