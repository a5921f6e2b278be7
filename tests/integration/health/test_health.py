"""Pipeline health on the real Kafka and PostgreSQL, on a scratch topic and rows of its own.

The rows are stamped around one moment of the last century and the report is asked "as of"
that moment, so the window and ages see only this module's rows in the shared database.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from sluice.health import (
    GroupLag,
    HealthThresholds,
    check_health,
    consumer_lag,
    dlq_rate,
    source_freshness,
    spider_freshness,
)
from sluice.kafka.admin import admin_client, ensure_topics
from sluice.kafka.topics import TopicSpec
from sluice.storage.postgres import connect

pytestmark = [pytest.mark.postgres, pytest.mark.kafka]


@dataclass
class Scene:
    """Names and the moment of this module's rows."""

    tag: str
    now: datetime

    def name(self, what: str) -> str:
        return f"test-{self.tag}-{what}"

    def source(self, what: str) -> str:
        return f"test-{self.tag}-{what}.localhost"


@pytest.fixture(scope="module")
def scene(writer) -> Iterator[Scene]:
    """Rejections and stored rows in and out of the window; fresh, stale and unfinished
    spiders; fresh and stale sources."""
    seed = uuid.uuid4()
    s = Scene(seed.hex[:8], datetime(1960, 1, 1, tzinfo=UTC) + timedelta(minutes=seed.int % 10**6))
    ago = lambda **kw: s.now - timedelta(**kw)  # noqa: E731 - a local shorthand
    topic = f"test.{s.tag}"
    try:
        for offset, at in enumerate(
            (ago(minutes=50), ago(minutes=30), ago(minutes=1), ago(hours=2))
        ):
            # Marked redriven, so that no `sluice dlq redrive` of another test picks them up.
            writer.execute(
                'INSERT INTO rejected_items (topic, partition, "offset", stage, reason, '
                "rejected_at, redriven_at) VALUES (%s, 0, %s, 'normalize', 'test/health', %s, %s)",
                (topic, offset, at, s.now),
            )
        for i in range(7):
            add_product(writer, s.source("fresh"), f"f-{i}", ago(minutes=10))
        add_product(writer, s.source("stale"), "s-0", ago(hours=40))
        for what, status, finished in (
            ("fresh", "finished", ago(hours=1)),
            ("stale", "finished", ago(hours=30)),
            ("never", "running", None),
        ):
            writer.execute(
                "INSERT INTO crawl_runs (crawl_id, spider, status, started_at, finished_at) "
                "VALUES (%s, %s, %s, %s, %s)",
                (s.name(what), s.name(what), status, ago(hours=40), finished),
            )
        yield s
    finally:
        writer.execute("DELETE FROM rejected_items WHERE topic = %s", (topic,))
        writer.execute(
            "DELETE FROM products WHERE source = ANY(%s)", ([s.source("fresh"), s.source("stale")],)
        )
        writer.execute("DELETE FROM crawl_runs WHERE crawl_id LIKE %s", (f"test-{s.tag}-%",))


def add_product(conn, source: str, sku: str, at: datetime) -> None:
    conn.execute(
        "INSERT INTO products (source, external_id, name, price, currency, url, first_seen_at, "
        "last_seen_at, updated_at) VALUES (%s, %s, 'Thing', 1, 'EUR', 'http://x/', %s, %s, %s)",
        (source, sku, at, at, at),
    )


@pytest.fixture(scope="module")
def lagging(settings, stack) -> Iterator[tuple[str, str, str]]:
    """A scratch topic with 15 messages; group ``ahead`` committed all but 3, group
    ``never`` nothing. Yields (topic, ahead, never)."""
    admin = admin_client(settings.kafka)
    topic = f"test.health.{uuid.uuid4().hex[:10]}"
    ensure_topics(admin, [TopicSpec(topic, partitions=3)])
    ahead, never = f"test-health-{uuid.uuid4().hex[:8]}", f"test-health-{uuid.uuid4().hex[:8]}"
    try:
        producer = Producer({"bootstrap.servers": settings.kafka_bootstrap})
        for i in range(15):
            producer.produce(topic, value=b"x", partition=0 if i < 10 else 1)
        assert producer.flush(30) == 0
        consumer = Consumer({**settings.kafka, "group.id": ahead})
        try:
            consumer.commit(
                offsets=[TopicPartition(topic, 0, 7), TopicPartition(topic, 1, 5)],
                asynchronous=False,
            )
        finally:
            consumer.close()
        yield topic, ahead, never
    finally:
        admin.delete_topics([topic])[topic].result(timeout=30)


def test_consumer_lag_per_group(settings, lagging):
    topic, ahead, never = lagging
    assert consumer_lag(settings.kafka, [ahead, never], [topic]) == [
        GroupLag(ahead, 3),
        GroupLag(never, 15),
    ]


def test_lag_that_cannot_be_read_is_reported_not_raised(settings, lagging):
    topic, ahead, _ = lagging
    missing = f"test.missing.{uuid.uuid4().hex[:8]}"
    [lag] = consumer_lag(settings.kafka, [ahead], [topic, missing])
    assert lag.lag is None and f"topic(s) {missing} do not exist" in lag.error
    [lag] = consumer_lag({"bootstrap.servers": "127.0.0.1:1"}, [ahead], [topic], timeout=1.0)
    assert lag.lag is None and "Kafka at 127.0.0.1:1 unreachable" in lag.error


def test_dlq_rate_counts_the_window(writer, scene):
    rate = dlq_rate(writer, timedelta(hours=1), now=scene.now)
    assert (rate.rejected, rate.stored, rate.received) == (3, 7, 10)
    assert rate.rate == pytest.approx(0.3)
    assert rate.until - rate.since == timedelta(hours=1)


def test_freshness_of_spiders_and_sources(writer, scene):
    spiders = spider_freshness(
        writer, [scene.name("fresh"), scene.name("stale"), scene.name("never")], now=scene.now
    )
    assert {f.name: f.age for f in spiders} == {
        scene.name("fresh"): timedelta(hours=1),
        scene.name("stale"): timedelta(hours=30),
        scene.name("never"): None,
    }
    sources = source_freshness(
        writer, [scene.source("fresh"), scene.source("stale"), scene.source("gone")], scene.now
    )
    assert {f.name: f.age for f in sources} == {
        scene.source("fresh"): timedelta(minutes=10),
        scene.source("stale"): timedelta(hours=40),
        scene.source("gone"): None,
    }


def test_report_lists_every_problem(settings, scene, lagging):
    topic, ahead, never = lagging
    with connect(settings.postgres_reader_url, autocommit=True) as conn:
        report = check_health(
            conn,
            settings.kafka,
            thresholds=HealthThresholds(max_lag=5, dlq_min_items=5),
            spiders=[scene.name(w) for w in ("fresh", "stale", "never")],
            sources=[scene.source(w) for w in ("fresh", "stale", "gone")],
            groups=[ahead, never],
            topics=[topic],
            now=scene.now,
        )
    assert not report.is_healthy
    # Lag, DLQ, then spiders and sources by name.
    assert [(p.kind, p.subject) for p in report.problems] == [
        ("lag", never),
        ("dlq", "rate"),
        ("spider", scene.name("never")),
        ("spider", scene.name("stale")),
        ("source", scene.source("gone")),
        ("source", scene.source("stale")),
    ]
    text = report.summary()
    assert text.startswith("pipeline health: 6 problems\n")
    assert f"- lag {never}: 15 messages behind (at most 5 tolerated)" in text
    assert "3 of 10 items rejected (30%) in the last 60 min (at most 5% tolerated)" in text
    assert f"- spider {scene.name('never')}: no finished crawl run" in text
    assert "newest row stored 40 h ago" in text


def test_a_healthy_pipeline(settings, scene, lagging):
    topic, ahead, _ = lagging
    with connect(settings.postgres_reader_url, autocommit=True) as conn:
        report = check_health(
            conn,
            settings.kafka,
            thresholds=HealthThresholds(max_lag=5, max_dlq_rate=0.5),
            spiders=[scene.name("fresh")],
            sources=[scene.source("fresh")],
            groups=[ahead],
            topics=[topic],
            now=scene.now,
        )
    assert report.is_healthy, report.summary()
    assert report.summary().startswith(f"pipeline health: healthy (lag {ahead} 3; 3 of 10")
    assert report.to_dict()["lag"] == {ahead: 3}


def test_dlq_rate_of_some_spiders_counts_only_their_crawls(writer, scene):
    # A moment long before the scene's, so the other tests' windows never see these rows.
    at = scene.now - timedelta(days=1000)
    topic, spider = f"test.{scene.tag}", scene.name("dlq")
    writer.execute(
        "INSERT INTO crawl_runs (crawl_id, spider, status, started_at) "
        "VALUES (%s, %s, 'running', %s)",
        (spider, spider, at),
    )
    try:
        # One rejection of the spider's crawl, one of no known crawl; two of its rows stored.
        for offset, crawl_id in ((100, spider), (101, None)):
            writer.execute(
                'INSERT INTO rejected_items (topic, partition, "offset", crawl_id, stage, '
                "reason, rejected_at, redriven_at) "
                "VALUES (%s, 0, %s, %s, 'normalize', 'test/health', %s, %s)",
                (topic, offset, crawl_id, at, at),
            )
        for sku in ("d-0", "d-1"):
            add_product(writer, scene.source("dlq"), sku, at)
        writer.execute(
            "UPDATE products SET last_crawl_id = %s WHERE source = %s",
            (spider, scene.source("dlq")),
        )
        everything = dlq_rate(writer, timedelta(hours=1), now=at + timedelta(minutes=1))
        assert (everything.rejected, everything.stored) == (2, 2)
        scoped = dlq_rate(writer, timedelta(hours=1), at + timedelta(minutes=1), [spider])
        assert (scoped.rejected, scoped.stored) == (1, 2)
        other = dlq_rate(writer, timedelta(hours=1), at + timedelta(minutes=1), [scene.name("x")])
        assert (other.rejected, other.stored) == (0, 0)
    finally:
        writer.execute("DELETE FROM products WHERE source = %s", (scene.source("dlq"),))
