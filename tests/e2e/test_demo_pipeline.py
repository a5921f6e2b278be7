"""A demo-shop crawl lands every valid product once in PostgreSQL, served over HTTP by the API,
and every envelope once in MongoDB, through the real processors."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime

import pytest
from confluent_kafka import Consumer, TopicPartition

from demo.catalog import Catalog
from processors.app import TOPICS, build
from sluice.storage.mongo import client as mongo_client
from tests.support.crawling import DEMO_DAY, crawl_demo_shop
from tests.support.served_api import api_key, get, listing

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.mongo, pytest.mark.redis]


def commit_at_end(settings, group_id: str, topics: list[str]) -> None:
    """Commit ``group_id``'s offsets at the current end of ``topics``."""
    consumer = Consumer({**settings.kafka, "group.id": group_id})
    ends = []
    for topic in topics:
        for p in consumer.list_topics(topic, timeout=10).topics[topic].partitions:
            high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
            ends.append(TopicPartition(topic, p, high))
    consumer.commit(offsets=ends, asynchronous=False)
    consumer.close()


def test_a_demo_crawl_is_stored_exactly_once(migrated, settings, demo, sluice_cli, served):
    demo.reset()
    # Fresh consumer groups that start where the topics end now: they see this crawl only.
    groups = {g: f"e2e-{g}-{uuid.uuid4().hex[:8]}" for g in ("archiver", "normalizer")}
    for group_id in groups.values():
        commit_at_end(settings, group_id, TOPICS)
    report, published = crawl_demo_shop(sluice_cli, settings, demo.base)
    crawl_id = report["crawl_id"]

    for group, group_id in groups.items():
        runtime = build(settings, group, topics=TOPICS, consumer_group_id=group_id)
        stats = runtime.run(until_idle=3, timeout=900)
        assert stats.reason == "idle"

    expected = Catalog(seed=7).expected_public_products(DEMO_DAY, base_url=demo.base)
    # Read back as an API user reads it: over HTTP from gunicorn.
    with api_key(served) as key:
        run = get(served, key, f"/api/v1/crawls/{crawl_id}").json()
        started = datetime.fromisoformat(run["started_at"])
        rows = [
            p
            for p in listing(served, key, "/api/v1/products", source="shop.localhost")
            if datetime.fromisoformat(p["last_seen_at"]) >= started
        ]
    assert sorted(p["external_id"] for p in rows) == sorted(expected)
    for product in rows:
        want = expected[product["external_id"]]
        assert (product["name"], product["brand"], product["currency"]) == (
            want["name"],
            want["brand"],
            want["currency"],
        )
        assert product["availability"] == want["availability"]
        assert float(product["price"]) == float(want["price"])
    # `sluice crawl` registered and finalized the run; the processors counted what they stored.
    counts = (run["spider"], run["items_stored"], run["items_rejected"], run["status"])
    assert counts == ("ecommerce", len(expected), 0, "finished")
    assert run["items_received"] == len(expected)

    with mongo_client(settings.mongo_url, timeout=60) as mongo:
        raw = mongo.get_default_database().raw_items
        ids = {
            hashlib.sha256(
                json.dumps(env, ensure_ascii=False, separators=(",", ":")).encode()
            ).hexdigest()
            for _, env in published
        }
        # One query (the MongoDB-wire server scans; a lookup per document would scan each time).
        stored = {doc["_id"] for doc in raw.find({"crawl_id": crawl_id}, {"_id": 1})}
    assert len(ids) == len(published) == len(expected)
    assert stored == ids
