"""Bare pipelines over the normalizer's topic: the floors its throughput is measured against.

- ``raw_consume``: a confluent-kafka consumer that reads and JSON-decodes every message;
- ``raw_sql_pipeline``: the same, plus per batch a ``COPY`` into a staging table, one
  ``INSERT ... ON CONFLICT`` into ``products`` and the history insert into ``product_prices``
  from it, a commit, and the offsets committed after it — no validation, no change
  detection, no rejections, no crawl bookkeeping.
"""

from __future__ import annotations

import json
import time
import uuid

from confluent_kafka import Consumer

from processors.runtime import consumer_config, next_offsets
from sluice.storage import postgres

BATCH = 500
#: seconds without a message before a baseline gives up on the messages it expects
IDLE_LIMIT = 30

STAGE = """
CREATE TEMP TABLE IF NOT EXISTS raw_stage (
    source text, external_id text, name text, brand text, category text, price numeric,
    currency text, availability text, rating numeric, review_count integer, image_url text,
    url text, fetched_at timestamptz, crawl_id text
) ON COMMIT DELETE ROWS
"""
COLUMNS = (
    "source, external_id, name, brand, category, price, currency, availability, rating, "
    "review_count, image_url, url"
)
UPSERT = f"""
INSERT INTO products AS p ({COLUMNS}, first_seen_at, last_seen_at, last_crawl_id)
SELECT DISTINCT ON (source, external_id) {COLUMNS}, fetched_at, fetched_at, crawl_id
FROM raw_stage
ORDER BY source, external_id, fetched_at DESC
ON CONFLICT (source, external_id) DO UPDATE SET
    name = EXCLUDED.name, brand = EXCLUDED.brand, category = EXCLUDED.category,
    price = EXCLUDED.price, currency = EXCLUDED.currency, availability = EXCLUDED.availability,
    rating = EXCLUDED.rating, review_count = EXCLUDED.review_count,
    image_url = EXCLUDED.image_url, url = EXCLUDED.url, last_seen_at = EXCLUDED.last_seen_at,
    last_crawl_id = EXCLUDED.last_crawl_id
WHERE p.last_seen_at < EXCLUDED.last_seen_at
"""  # noqa: S608 - built from constants only
HISTORY = """
INSERT INTO product_prices (product_id, price, currency, availability, observed_at, crawl_id)
SELECT p.id, s.price, s.currency, s.availability, s.fetched_at, s.crawl_id
FROM raw_stage s JOIN products p ON p.source = s.source AND p.external_id = s.external_id
ON CONFLICT (product_id, observed_at) DO NOTHING
"""


def raw_consume(settings, topic: str, expected: int) -> float:
    """Seconds for a bare consumer to read and JSON-decode ``expected`` messages of ``topic``.

    The clock starts before the consumer is made, as it does for a processor's run.
    """
    began, seen = time.monotonic(), 0
    consumer = _consumer(settings, topic)
    try:
        while seen < expected:
            messages = _consume(consumer, topic, seen, expected)
            for message in messages:
                json.loads(message.value())
            seen += len(messages)
        return time.monotonic() - began
    finally:
        consumer.close()


def raw_sql_pipeline(settings, topic: str, expected: int, prefix: str = "raw-") -> float:
    """Seconds for the bare SQL pipeline to store ``expected`` messages of ``topic``.

    Rows are stored under ``prefix`` + their source, beside the normalizer's own rows. The
    clock starts before the consumer and the connection are made, as for a processor's run.
    """
    began, seen = time.monotonic(), 0
    consumer = _consumer(settings, topic)
    conn = postgres.connect(settings.postgres_writer_url, autocommit=True)
    try:
        conn.execute(STAGE)
        while seen < expected:
            messages = _consume(consumer, topic, seen, expected)
            rows = [_row(json.loads(m.value()), prefix) for m in messages]
            with conn.transaction():
                with conn.cursor() as cur, cur.copy("COPY raw_stage FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                conn.execute(UPSERT)
                conn.execute(HISTORY)
            consumer.store_offsets(offsets=next_offsets(messages))
            consumer.commit(asynchronous=False)
            seen += len(messages)
        return time.monotonic() - began
    finally:
        conn.close()
        consumer.close()


def _consume(consumer: Consumer, topic: str, seen: int, expected: int) -> list:
    """The next messages (at least one), or an error naming the shortfall after a quiet spell."""
    quiet_since = time.monotonic()
    while time.monotonic() - quiet_since < IDLE_LIMIT:
        messages = [
            m for m in consumer.consume(num_messages=BATCH, timeout=1.0) if m.error() is None
        ]
        if messages:
            return messages
    raise RuntimeError(f"{topic}: {seen} of {expected} messages, then nothing for {IDLE_LIMIT}s")


def _consumer(settings, topic: str) -> Consumer:
    consumer = Consumer(consumer_config(settings.kafka, f"bench-raw-{uuid.uuid4().hex}"))
    consumer.subscribe([topic])
    return consumer


def _row(envelope: dict, prefix: str) -> tuple:
    item = envelope["item"]
    return (
        prefix + envelope["source"],
        item["external_id"],
        item["name"],
        item.get("brand"),
        item.get("category"),
        item["price"],
        item["currency"],
        item.get("availability", "unknown"),
        item.get("rating"),
        item.get("review_count"),
        item.get("image_url"),
        item["url"],
        envelope["fetched_at"],
        envelope["crawl_id"],
    )
