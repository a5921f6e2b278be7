"""Helpers for processor tests: envelopes as the spiders publish them, and publishing them."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

from confluent_kafka import Consumer, Producer, TopicPartition

from sluice.stack.services.base import NotReady, Service


def publish(settings, topic: str, messages: list[tuple[bytes | None, bytes]]) -> None:
    """Produce (key, value) pairs and wait until Kafka has them all."""
    producer = Producer(
        {
            **settings.kafka,
            "enable.idempotence": True,
            "message.max.bytes": 8 * 1024 * 1024,
        }
    )
    for key, value in messages:
        producer.produce(topic, key=key, value=value)
    assert producer.flush(30) == 0


def product(source: str, sku: str, price: str, day: int, crawl_id: str, **item) -> tuple:
    """A product envelope as the ecommerce spider publishes it."""
    fetched = datetime(2026, 11, 1, 8, tzinfo=UTC) + timedelta(days=day)
    envelope = {
        "schema": "product/1",
        "crawl_id": crawl_id,
        "spider": "ecommerce",
        "source": source,
        "url": f"http://{source}/p/{sku}",
        "fetched_at": fetched.isoformat(),
        "item": {
            "external_id": sku,
            "name": f"Product {sku}",
            "brand": "Acme",
            "category": "tools",
            "price": price,
            "currency": "USD",
            "availability": "in_stock",
            "rating": 4.0,
            "review_count": 3,
            "image_url": None,
            "url": f"http://{source}/p/{sku}",
            **item,
        },
    }
    return f"{source}:{sku}".encode(), json.dumps(envelope).encode()


def seen(source: str, sku: str, day: int, crawl_id: str) -> tuple:
    """A seen notice for a product, as a crawl that found it unchanged publishes it."""
    fetched = datetime(2026, 11, 1, 8, tzinfo=UTC) + timedelta(days=day)
    url = f"http://{source}/p/{sku}"
    envelope = {
        "schema": "seen/1",
        "crawl_id": crawl_id,
        "spider": "ecommerce",
        "source": source,
        "url": url,
        "fetched_at": fetched.isoformat(),
        "item": {"external_id": sku, "url": url},
    }
    return f"{source}:{sku}".encode(), json.dumps(envelope).encode()


def quote(symbol: str, price: str, day: int, crawl_id: str) -> tuple:
    """A quote envelope as the finance spider publishes it."""
    as_of = datetime(2026, 11, 1, 21, tzinfo=UTC) + timedelta(days=day)
    envelope = {
        "schema": "quote/1",
        "crawl_id": crawl_id,
        "spider": "finance",
        "source": "market.localhost",
        "url": "http://market.localhost/quotes",
        "fetched_at": (as_of + timedelta(hours=1)).isoformat(),
        "item": {
            "symbol": symbol,
            "name": symbol,
            "exchange": "NYSE",
            "price": price,
            "currency": "USD",
            "change": "0.10",
            "change_pct": "0.50",
            "volume": 100,
            "as_of": as_of.isoformat(),
            "trade_date": as_of.date().isoformat(),
        },
    }
    return symbol.encode(), json.dumps(envelope).encode()


def answers(service: Service) -> bool:
    """True when a stack service answers its readiness check."""
    try:
        service.check_ready()
    except NotReady:
        return False
    return True


def dlq_end_offsets(settings) -> list[TopicPartition]:
    """Where each partition of the dead-letter topic ends now."""
    consumer = Consumer({**settings.kafka, "group.id": "t"})
    parts = consumer.list_topics("sluice.dlq", timeout=10).topics["sluice.dlq"].partitions
    marks = [
        TopicPartition(
            "sluice.dlq",
            p,
            consumer.get_watermark_offsets(TopicPartition("sluice.dlq", p), timeout=10)[1],
        )
        for p in parts
    ]
    consumer.close()
    return marks


def read_dlq(settings, starts: list[TopicPartition], topic: str) -> list:
    """(value, headers) of the dead letters after ``starts`` that came from ``topic``."""
    consumer = Consumer({**settings.kafka, "group.id": "t-dlq"})
    consumer.assign(starts)
    found, last = [], time.monotonic()
    while time.monotonic() - last < 3:
        msg = consumer.poll(0.5)
        if msg is None:
            continue
        last = time.monotonic()
        headers = dict(msg.headers() or [])
        if headers.get("original.topic") == topic.encode():
            found.append((msg.value(), headers))
    consumer.close()
    return found
