"""Helpers for crawl tests: the demo sites in-process, Kafka read-back, crawl status."""

from __future__ import annotations

import json
import time
from datetime import date
from urllib.request import urlopen

from confluent_kafka import Consumer, TopicPartition

from demo.server import BackgroundServer
from sluice.crawl import registry
from sluice.crawl.keys import CrawlKeys
from sluice.settings import Settings
from sluice.storage.redis import client

DEMO_DAY = date(2026, 11, 20)


class DemoServer(BackgroundServer):
    """The demo sites in a thread, with the test-only controls as methods."""

    def __init__(self, day: date = DEMO_DAY, slow_seconds: float = 1.0) -> None:
        super().__init__(seed=7, day=day, slow_seconds=slow_seconds)

    def reset(self) -> None:
        """Arm the flaky page again and zero the hit counts."""
        urlopen(f"{self.base}/_demo/reset", data=b"").read()  # noqa: S310 - loopback

    def hits(self) -> dict[str, int]:
        """Requests served per path and query since the last reset."""
        with urlopen(f"{self.base}/_demo/hits") as response:  # noqa: S310 - loopback
            return json.load(response)


class TopicReader:
    """Reads what was published to the raw topics after this reader was made."""

    TOPICS = ("sluice.raw.products", "sluice.raw.quotes")

    def __init__(self, settings: Settings) -> None:
        self.consumer = Consumer(
            {
                **settings.kafka,
                "group.id": "sluice-tests-reader",
                "enable.auto.commit": False,
            }
        )
        self.starts: dict[str, list[TopicPartition]] = {}
        for topic in self.TOPICS:
            partitions = self.consumer.list_topics(topic, timeout=10).topics[topic].partitions
            marks = []
            for p in partitions:
                _, high = self.consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
                marks.append(TopicPartition(topic, p, high))
            self.starts[topic] = marks

    def read(self, topic: str, crawl_id: str, idle: float = 3.0) -> list[tuple[str, dict]]:
        """(key, envelope) of the crawl's messages on ``topic``, until ``idle`` s of silence."""
        self.consumer.assign(self.starts[topic])
        messages = []
        last = time.monotonic()
        while time.monotonic() - last < idle:
            msg = self.consumer.poll(0.5)
            if msg is None:
                continue
            if msg.error():
                raise AssertionError(f"Kafka read error: {msg.error()}")
            last = time.monotonic()
            envelope = json.loads(msg.value())
            if envelope["crawl_id"] == crawl_id:
                messages.append((msg.key().decode(), envelope))
        return messages

    def close(self) -> None:
        """Leave the cluster."""
        self.consumer.close()


def crawl_status(settings: Settings, crawl_id: str) -> registry.CrawlStatus:
    """The registry's view of a crawl."""
    server = client(settings.redis_url, decode=False, retries=20)
    return registry.status(server, CrawlKeys(crawl_id))


def wait_for(condition, timeout: float, interval: float = 0.5, what: str = "condition") -> None:
    """Poll ``condition()`` until it is true; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def crawl_demo_shop(sluice_cli, settings: Settings, base: str) -> tuple[dict, list]:
    """A two-worker `sluice crawl` of the demo shop: its JSON report and what it published."""
    reader = TopicReader(settings)
    result = sluice_cli(
        "crawl",
        "ecommerce",
        "--start-url",
        f"{base}/shop/",
        "--workers",
        "2",
        "--json",
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)
    messages = reader.read("sluice.raw.products", report["crawl_id"])
    reader.close()
    return report, messages
