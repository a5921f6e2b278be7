"""Processor memory on a backlog of millions, beside a raw consumer reading the same backlog.

    .venv/bin/python -m bench.processor_memory [--messages 2000000] [--seconds 60]

Fills a scratch topic with ``--messages`` product envelopes, then for ``--seconds`` each:
- the Sluice normalizer (`sluice process --group normalizer`, its own process) consuming the
  backlog into PostgreSQL;
- a raw baseline: a plain confluent-kafka consumer with librdkafka's default prefetch, in its
  own process, polling and discarding.
Prints the backlog size, each process's RSS (start, peak, end) and messages/s, and the ratio
of peak RSS. Needs the stack and the schema (`sluice up` or `sluice stack up && sluice migrate`).
"""

from __future__ import annotations

import argparse
import logging
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import psutil
from confluent_kafka import Consumer, TopicPartition

from bench.backlog import fill, iter_envelopes
from bench.figures import Expected, Figure, Quantity, print_figures
from sluice.kafka.admin import admin_client
from sluice.settings import load_settings
from sluice.storage import postgres

MIB = 1024 * 1024

ROW = Expected(
    "processor_memory_peak",
    "normalizer peak RSS ÷ raw consumer peak RSS, on a backlog",
    None,
    "Sluice normalizer",
    "raw consumer, librdkafka defaults",
)
ROWS = (ROW,)

# Stops on a flag, as the processors do: a process started in the background inherits SIGINT
# ignored, and a KeyboardInterrupt would never come.
RAW_CONSUMER = textwrap.dedent(
    """
    import signal
    import sys
    from confluent_kafka import Consumer
    stopping = []
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: stopping.append(True))
    consumer = Consumer({"bootstrap.servers": sys.argv[1], "group.id": sys.argv[3],
                         "auto.offset.reset": "earliest"})
    consumer.subscribe([sys.argv[2]])
    try:
        while not stopping:
            consumer.consume(500, 1.0)
    finally:
        consumer.close()
    """
)


@dataclass
class Sample:
    """RSS over one run, and how many messages the run got through."""

    start: int
    peak: int
    end: int
    consumed: int
    seconds: float


def committed(settings, group: str, topic: str, partitions: int) -> int:
    """Messages consumer group ``group`` has committed on ``topic``."""
    consumer = Consumer({**settings.kafka, "group.id": group})
    try:
        offsets = consumer.committed(
            [TopicPartition(topic, p) for p in range(partitions)], timeout=30
        )
    finally:
        consumer.close()
    return sum(max(tp.offset, 0) for tp in offsets)


def watch(process: subprocess.Popen, seconds: float, consumed: Callable[[], int]) -> Sample:
    """Sample ``process``'s RSS every second for ``seconds``, then stop it (SIGTERM)."""
    rss = psutil.Process(process.pid)
    time.sleep(3)  # past imports and connections: the start figure is the working baseline
    start = peak = rss.memory_info().rss
    began = time.monotonic()
    while time.monotonic() - began < seconds:
        time.sleep(1)
        peak = max(peak, rss.memory_info().rss)
    end = rss.memory_info().rss
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(120)
    except subprocess.TimeoutExpired as exc:
        process.kill()
        process.wait(30)
        raise RuntimeError(f"{process.args[:4]} did not stop within 120 s of SIGTERM") from exc
    return Sample(start, peak, end, consumed(), time.monotonic() - began)


def main(argv: list[str] | None = None) -> list[Figure]:
    """Fill the backlog, run both consumers on it in turn, print and return the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2_000_000)
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args(argv)
    settings = load_settings()
    source = f"bench-{uuid.uuid4().hex[:8]}.localhost"
    topic = f"bench.raw.{uuid.uuid4().hex[:8]}"
    partitions = 6
    admin = admin_client(settings.kafka)
    backlog_bytes = 0

    def counted():
        nonlocal backlog_bytes
        for key, value in iter_envelopes(source, args.messages):
            backlog_bytes += len(key) + len(value)
            yield key, value

    try:
        began = time.monotonic()
        fill(settings, topic, counted())
        print(
            f"backlog: {args.messages:,} messages, {backlog_bytes / MIB:,.0f} MiB "
            f"(filled in {time.monotonic() - began:.0f} s)"
        )
        sluice_group, raw_group = f"bench-mem-{uuid.uuid4().hex[:8]}", f"bench-raw-{uuid.uuid4()}"
        normalizer = subprocess.Popen(
            [sys.executable, "-m", "sluice", "process", "--group", "normalizer", "--topic", topic,
             "--consumer-group", sluice_group],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        ours = watch(
            normalizer,
            args.seconds,
            lambda: committed(settings, sluice_group, topic, partitions),
        )
        raw = subprocess.Popen(
            [sys.executable, "-c", RAW_CONSUMER, settings.kafka_bootstrap, topic, raw_group]
        )
        # The raw consumer auto-commits (and commits on close): its committed offsets count it.
        baseline = watch(
            raw, args.seconds, lambda: committed(settings, raw_group, topic, partitions)
        )
    finally:
        with postgres.connect(settings.postgres_url, autocommit=True) as conn:
            conn.execute("DELETE FROM products WHERE source = %s", (source,))
            conn.execute("DELETE FROM crawl_runs WHERE crawl_id = 'bench'")
        for future in admin.delete_topics([topic]).values():
            future.result(timeout=60)

    print(f"{'consumer':<40} {'RSS start':>10} {'peak':>8} {'end':>8} {'msgs/s':>8} {'peak x':>7}")
    for name, s in (("raw consumer, librdkafka defaults", baseline), ("Sluice normalizer", ours)):
        rate = f"{s.consumed / s.seconds:8.0f}"
        print(
            f"{name:<40} {s.start / MIB:8.0f}Mi {s.peak / MIB:6.0f}Mi {s.end / MIB:6.0f}Mi "
            f"{rate} {s.peak / baseline.peak:7.2f}"
        )
    remaining = args.messages - ours.consumed
    print(f"normalizer left {remaining:,} messages of the backlog; peak growth over start "
          f"{(ours.peak - ours.start) / MIB:.0f} MiB")  # fmt: skip
    note = (
        f"{args.messages:,} messages ({backlog_bytes / MIB:,.0f} MiB), {args.seconds:g} s each; "
        f"normalizer {ours.consumed / ours.seconds:,.0f} msgs/s, "
        f"raw {baseline.consumed / baseline.seconds:,.0f} msgs/s"
    )
    figures = [
        ROW.measured(Quantity(ours.peak / MIB, "MiB"), Quantity(baseline.peak / MIB, "MiB"), note)
    ]
    print_figures(figures)
    return figures


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    main()
