"""A normalizer facing a backlog far larger than its memory budget keeps its memory flat."""

from __future__ import annotations

import signal
import time
import uuid

import psutil
import pytest
from confluent_kafka import Consumer, TopicPartition

from sluice.storage.postgres import connect
from tests.integration.processors.test_processors_crashes import counts, start_normalizer
from tests.support.processing import product, publish

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.redis]

BACKLOG = 600_000
MIB = 1024 * 1024


def topic_bytes(settings, topic: str, partitions: int = 3) -> tuple[int, int]:
    """(messages, approximate bytes) waiting in ``topic``, from its end offsets."""
    consumer = Consumer({**settings.kafka, "group.id": "sizer"})
    try:
        total = sum(
            consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
            for p in range(partitions)
        )
    finally:
        consumer.close()
    return total, total * len(product("x.localhost", "SKU-000000", "5.00", 0, "c")[1])


def test_memory_stays_flat_while_a_backlog_many_times_larger_is_consumed(
    migrated, settings, scratch_topic, source
):
    crawl_id = f"test-{uuid.uuid4().hex[:8]}"
    for start in range(0, BACKLOG, 50_000):
        publish(
            settings,
            scratch_topic,
            [
                product(source, f"SKU-{i:06d}", "5.00", 0, crawl_id)
                for i in range(start, start + 50_000)
            ],
        )
    messages, backlog_bytes = topic_bytes(settings, scratch_topic)
    assert messages == BACKLOG

    process = start_normalizer(settings, scratch_topic, f"mem-{crawl_id}")
    try:
        rss = psutil.Process(process.pid)
        samples: list[tuple[int, int]] = []  # (rows stored, RSS bytes)
        began = time.monotonic()
        while time.monotonic() - began < 30:
            time.sleep(1)
            samples.append((counts(settings, source)[0], rss.memory_info().rss))
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=120)[0].decode()
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, output[-2000:]

    # Warm-up: the first samples cover imports, connections and librdkafka's first prefetch.
    warm = [s for s in samples if s[0] >= 5_000]
    assert len(warm) >= 10, f"normalizer too slow to judge: {samples}"
    stored_during = warm[-1][0] - warm[0][0]
    growth = max(r for _, r in warm) - warm[0][1]
    peak = max(r for _, r in samples)
    # Still a backlog at the end: the process never had a chance to "finish" and shrink.
    assert warm[-1][0] < BACKLOG / 2
    assert stored_during >= 20_000, samples
    assert backlog_bytes > peak, (backlog_bytes, peak)  # it could not have held the backlog
    # Flat while tens of thousands of rows (many MiB of messages) passed through.
    assert growth < 48 * MIB, f"RSS grew {growth / MIB:.0f} MiB over {stored_during} rows"
    assert peak < 320 * MIB, f"peak RSS {peak / MIB:.0f} MiB"

    with connect(settings.postgres_writer_url, autocommit=True) as conn:
        conn.execute("DELETE FROM products WHERE source = %s", (source,))
