"""The product backlog the processor benchmarks consume: envelopes, a scratch topic holding
them, the same data as plain table rows, and the clean-up afterwards."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta

from confluent_kafka import KafkaError, KafkaException, Producer

from sluice.kafka.admin import admin_client, ensure_topics
from sluice.kafka.producer import produce_waiting
from sluice.kafka.topics import TopicSpec
from sluice.storage import mongo, postgres

log = logging.getLogger(__name__)

#: as many as the raw topics have, so one to six consumers can share the backlog
PARTITIONS = 6

#: the products' columns, in the order of :func:`rows`
ROW_COLUMNS = (
    "source, external_id, name, brand, category, price, currency, availability, rating, "
    "review_count, image_url, url, fetched_at, crawl_id"
)


def envelopes(source: str, count: int) -> list[tuple[bytes, bytes]]:
    """``count`` product envelopes: count/4 products seen on four days, prices changing."""
    return list(iter_envelopes(source, count))


def iter_envelopes(source: str, count: int) -> Iterator[tuple[bytes, bytes]]:
    """The envelopes of :func:`envelopes`, one at a time (for backlogs too big to hold)."""
    start = datetime(2026, 11, 1, 8, tzinfo=UTC)
    for n in range(count):
        sku, day = f"SKU-{n // 4:06d}", n % 4
        item = {
            "external_id": sku,
            "name": f"Bench product {sku}",
            "brand": "Bench",
            "category": "bench",
            "price": f"{10 + (n // 4) % 50 + (day % 2)}.99",
            "currency": "USD",
            "availability": "in_stock",
            "rating": 4.2,
            "review_count": 7,
            "image_url": None,
            "url": f"http://{source}/p/{sku}",
        }
        envelope = {
            "schema": "product/1",
            "crawl_id": "bench",
            "spider": "ecommerce",
            "source": source,
            "url": item["url"],
            "fetched_at": (start + timedelta(days=day)).isoformat(),
            "item": item,
        }
        yield f"{source}:{sku}".encode(), json.dumps(envelope).encode()


def fill(settings, topic: str, messages: Iterable[tuple[bytes, bytes]]) -> None:
    """Create ``topic`` (:data:`PARTITIONS` partitions) and produce every message into it."""
    ensure_topics(admin_client(settings.kafka), [TopicSpec(topic, partitions=PARTITIONS)])
    producer = Producer({**settings.kafka, "linger.ms": 50})
    for key, value in messages:
        produce_waiting(producer, topic, key, value)
    left = producer.flush(60)
    if left:
        raise RuntimeError(f"{left} messages still undelivered to {topic} after 60 s")


def row_of(envelope: dict) -> tuple:
    """The table row of one decoded envelope, columns as :data:`ROW_COLUMNS`."""
    item = envelope["item"]
    return (
        envelope["source"],
        item["external_id"],
        item["name"],
        item["brand"],
        item["category"],
        item["price"],
        item["currency"],
        item["availability"],
        item["rating"],
        item["review_count"],
        item["image_url"],
        item["url"],
        envelope["fetched_at"],
        envelope["crawl_id"],
    )


def forget_products(settings, source: str) -> None:
    """Remove the products of ``source`` (and, by cascade, their price history)."""
    with postgres.connect(settings.postgres_url, autocommit=True) as conn:
        conn.execute("DELETE FROM products WHERE source = %s", (source,))


def clean_up(settings, topics: list[str], sources: list[str]) -> None:
    """Delete the scratch topics and what the processors stored for the scratch sources."""
    with postgres.connect(settings.postgres_url, autocommit=True) as conn:
        for source in sources:
            conn.execute("DELETE FROM products WHERE source = %s", (source,))
        conn.execute("DELETE FROM crawl_runs WHERE crawl_id = 'bench'")
    client = mongo.client(settings.mongo_url, timeout=120)
    try:
        client.get_default_database().raw_items.delete_many({"source": {"$in": sources}})
    finally:
        client.close()
    if topics:
        admin = admin_client(settings.kafka)  # held: the futures die with their client
        for topic, future in admin.delete_topics(topics).items():
            try:
                future.result(timeout=60)
            except KafkaException as exc:
                # A run that failed before filling it never created the topic.
                if exc.args[0].code() != KafkaError.UNKNOWN_TOPIC_OR_PART:
                    raise RuntimeError(f"could not delete scratch topic {topic}: {exc}") from exc
