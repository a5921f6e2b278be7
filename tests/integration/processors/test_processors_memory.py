"""A normalizer facing a backlog far larger than its memory budget keeps its memory flat."""

from __future__ import annotations

import signal
import uuid

import psutil
import pytest
from confluent_kafka import Consumer, TopicPartition

from sluice.storage.postgres import connect
from tests.integration.processors.test_processors_crashes import counts, start_normalizer
from tests.support.crawling import wait_for
from tests.support.processing import product, publish

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.redis]

BACKLOG = 600_000
MIB = 1024 * 1024
#: rows stored before the memory counts as warmed up, and rows the judgement then covers
WARM_ROWS = 5_000
JUDGED_ROWS = 20_000


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

        def judged_enough() -> bool:
            # Sampled until enough rows passed, however long a loaded machine takes: the
            # memory is judged per rows consumed, not per second.
            samples.append((counts(settings, source)[0], rss.memory_info().rss))
            warm = [s for s in samples if s[0] >= WARM_ROWS]
            return len(warm) >= 10 and warm[-1][0] - warm[0][0] >= JUDGED_ROWS

        wait_for(judged_enough, 900, interval=1, what=f"{JUDGED_ROWS} rows past the warm-up")
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=120)[0].decode()
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, output[-2000:]

    # Warm-up: the first samples cover imports, connections and librdkafka's first prefetch.
    warm = [s for s in samples if s[0] >= WARM_ROWS]
    stored_during = warm[-1][0] - warm[0][0]
    growth = max(r for _, r in warm) - warm[0][1]
    peak = max(r for _, r in samples)
    # Still a backlog at the end: the process never had a chance to "finish" and shrink.
    assert warm[-1][0] < BACKLOG / 2
    assert backlog_bytes > peak, (backlog_bytes, peak)  # it could not have held the backlog
    # Flat while tens of thousands of rows (many MiB of messages) passed through. The bounds
    # leave room for a slow consumer's fuller prefetch queue and the allocator's slack.
    # (The peak's bound is the backlog's size above, some 250 MiB.)
    assert growth < 64 * MIB, f"RSS grew {growth / MIB:.0f} MiB over {stored_during} rows"

    with connect(settings.postgres_writer_url, autocommit=True) as conn:
        conn.execute("DELETE FROM products WHERE source = %s", (source,))
