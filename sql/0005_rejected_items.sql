-- Rejected items: messages that failed validation or storage, with their raw bytes.

CREATE TABLE rejected_items (
    id           bigserial   PRIMARY KEY,
    topic        text        NOT NULL,
    partition    integer     NOT NULL,
    "offset"     bigint      NOT NULL,
    message_key  text,
    crawl_id     text,
    stage        text        NOT NULL,
    reason       text        NOT NULL,
    error        text,
    payload      bytea,
    rejected_at  timestamptz NOT NULL DEFAULT now(),
    redriven_at  timestamptz,
    -- A message is recorded once, however often its range of the topic is replayed.
    CONSTRAINT rejected_items_message_key UNIQUE (topic, partition, "offset"),
    CONSTRAINT rejected_items_partition_not_negative CHECK (partition >= 0),
    CONSTRAINT rejected_items_offset_not_negative CHECK ("offset" >= 0)
);

COMMENT ON TABLE rejected_items IS
    'Messages that failed a stage (normalize, archive, ...): raw bytes, reason and error';
COMMENT ON COLUMN rejected_items.payload IS 'the message value as received (may not be UTF-8)';
COMMENT ON COLUMN rejected_items.redriven_at IS 'when the DLQ redrive sent it back; NULL: not yet';

CREATE INDEX rejected_items_reason_idx ON rejected_items (reason);
CREATE INDEX rejected_items_rejected_at_idx ON rejected_items (rejected_at);
-- Per-crawl counts (crawl_runs.items_rejected).
CREATE INDEX rejected_items_crawl_id_idx ON rejected_items (crawl_id);
-- What the redrive still has to do.
CREATE INDEX rejected_items_not_redriven_idx ON rejected_items (rejected_at)
    WHERE redriven_at IS NULL;
