"""Processor throughput against raw writes of the same data, side by side.

    .venv/bin/python -m bench.processor_throughput [--rows 20000] [--docs 5000]

- normalizer: rows/s from a pre-filled topic into PostgreSQL (consume, validate, normalise,
  upsert products and price history, commit offsets), against a raw ``COPY`` of the same
  rows into a plain table, a bare consumer that reads and JSON-decodes the topic, and a bare
  SQL pipeline over it (:mod:`bench.raw_baselines`);
- archiver: documents/s from a pre-filled topic into MongoDB, against a raw ``insert_many``
  of the same documents.
Needs the stack (`sluice stack up`) and the schema (`sluice migrate`). Uses scratch topics,
a scratch source name and scratch tables/collections, and removes them afterwards.
"""

from __future__ import annotations

import argparse
import json
import time
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta

from confluent_kafka import Producer

from bench.raw_baselines import raw_consume, raw_sql_pipeline
from processors.app import build
from processors.archiver import document_for
from processors.base import Origin
from sluice.kafka.admin import admin_client, ensure_topics
from sluice.kafka.producer import produce_waiting
from sluice.kafka.topics import TopicSpec
from sluice.settings import load_settings
from sluice.storage import mongo, postgres


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
    """Create ``topic`` and produce every message into it."""
    ensure_topics(admin_client(settings.kafka), [TopicSpec(topic, partitions=6)])
    producer = Producer({**settings.kafka, "linger.ms": 50})
    for key, value in messages:
        produce_waiting(producer, topic, key, value)
    producer.flush(60)


def timed_run(settings, group: str, topic: str) -> tuple[int, float]:
    """Consume the topic to its end; (messages, seconds until the last batch committed)."""
    runtime = build(settings, group, topics=[topic], consumer_group_id=f"bench-{uuid.uuid4().hex}")
    began = time.monotonic()
    finished = [began]
    stats = runtime.run(until_idle=3, on_batch=lambda _: finished.__setitem__(0, time.monotonic()))
    return stats.consumed, finished[0] - began


def raw_copy(settings, rows: list[tuple]) -> float:
    """Seconds to COPY ``rows`` into a plain table of the products' columns."""
    table = f"bench_copy_{uuid.uuid4().hex[:8]}"
    with postgres.connect(settings.postgres_url, autocommit=True) as conn:
        conn.execute(
            f"CREATE TABLE {table} (source text, external_id text, name text, brand text, "
            "category text, price numeric(18,4), currency char(3), availability text, "
            "rating numeric(3,2), review_count int, image_url text, url text, "
            "fetched_at timestamptz)"
        )
        try:
            began = time.monotonic()
            with (
                conn.transaction(),
                conn.cursor() as cur,
                cur.copy(f"COPY {table} FROM STDIN") as cp,
            ):
                for row in rows:
                    cp.write_row(row)
            return time.monotonic() - began
        finally:
            conn.execute(f"DROP TABLE {table}")


def main() -> None:
    """Fill the topics, run each processor and its baseline, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--docs", type=int, default=5_000)
    args = parser.parse_args()
    settings = load_settings()
    source = f"bench-{uuid.uuid4().hex[:8]}.localhost"
    admin = admin_client(settings.kafka)
    topics = []
    try:
        topic = f"bench.raw.{uuid.uuid4().hex[:8]}"
        topics.append(topic)
        messages = envelopes(source, args.rows)
        fill(settings, topic, messages)
        # A first read warms the broker for every reader after it, so the order favours none.
        raw_consume(settings, topic, args.rows)
        consumed, seconds = timed_run(settings, "normalizer", topic)
        rows = []
        for _, value in messages:
            e = json.loads(value)
            i = e["item"]
            rows.append(
                (
                    e["source"],
                    i["external_id"],
                    i["name"],
                    i["brand"],
                    i["category"],
                    i["price"],
                    i["currency"],
                    i["availability"],
                    i["rating"],
                    i["review_count"],
                    i["image_url"],
                    i["url"],
                    e["fetched_at"],
                )
            )
        copy_seconds = raw_copy(settings, rows)
        norm_rate, copy_rate = consumed / seconds, len(rows) / copy_seconds
        consume_rate = args.rows / raw_consume(settings, topic, args.rows)
        pipeline_rate = args.rows / raw_sql_pipeline(settings, topic, args.rows)

        topic2 = f"bench.raw.{uuid.uuid4().hex[:8]}"
        topics.append(topic2)
        docs_messages = envelopes(f"docs-{source}", args.docs)
        fill(settings, topic2, docs_messages)
        archived, archive_seconds = timed_run(settings, "archiver", topic2)
        client = mongo.client(settings.mongo_url, timeout=120)
        scratch = client["sluice_bench"][f"raw_{uuid.uuid4().hex[:8]}"]

        docs = [document_for(v, Origin("bench", 0, n, k)) for n, (k, v) in enumerate(docs_messages)]
        began = time.monotonic()
        for start in range(0, len(docs), 500):
            scratch.insert_many(docs[start : start + 500], ordered=False)
        insert_seconds = time.monotonic() - began
        client.drop_database("sluice_bench")
        arch_rate, insert_rate = archived / archive_seconds, len(docs) / insert_seconds
    finally:
        with postgres.connect(settings.postgres_url, autocommit=True) as conn:
            conn.execute("DELETE FROM products WHERE source LIKE %s", (f"%{source}",))
            conn.execute("DELETE FROM crawl_runs WHERE crawl_id = 'bench'")
        if topics:
            for future in admin.delete_topics(topics).values():
                future.result(timeout=30)
    print(f"{'path':<44} {'per second':>11} {'ratio':>7}")
    print(f"{'raw COPY into PostgreSQL (baseline)':<44} {copy_rate:11.0f} {1:7.2f}")
    ratio = norm_rate / copy_rate
    print(f"{'normalizer: topic -> PostgreSQL upserts':<44} {norm_rate:11.0f} {ratio:7.2f}")
    print(f"{'bare consumer: read + JSON-decode (baseline)':<44} {consume_rate:11.0f} {1:7.2f}")
    print(f"{'normalizer against the bare consumer':<44} {'':11} {norm_rate / consume_rate:7.2f}")
    print(f"{'bare SQL pipeline: COPY + upsert (baseline)':<44} {pipeline_rate:11.0f} {1:7.2f}")
    print(
        f"{'normalizer against the bare SQL pipeline':<44} {'':11} {norm_rate / pipeline_rate:7.2f}"
    )
    print(f"{'raw insert_many into MongoDB (baseline)':<44} {insert_rate:11.0f} {1:7.2f}")
    print(f"{'archiver: topic -> MongoDB':<44} {arch_rate:11.0f} {arch_rate / insert_rate:7.2f}")


if __name__ == "__main__":
    main()
