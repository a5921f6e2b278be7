"""The processors as the platform runs them (`sluice process`, both groups, the raw topics),
started for a benchmark and known to be ready: in their consumer groups and caught up."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from confluent_kafka import Consumer, ConsumerGroupState, TopicPartition

from bench import children
from processors.app import GROUPS, TOPICS, consumer_group
from sluice.kafka.admin import admin_client


@contextlib.contextmanager
def running(settings, ready_within: float = 300) -> Iterator[None]:
    """`sluice process` in the background until the block ends; ready when it yields."""
    log_dir = settings.stack_dir / "logs" / "bench"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_file = log_dir / "processors.log"
    sluice = str(Path(sys.executable).with_name("sluice"))
    # No metrics port: the benchmark's processors must not collide with a running platform's.
    env = {**os.environ, "SLUICE_METRICS_PORT": "0"}
    with log_file.open("w") as out:
        proc = subprocess.Popen([sluice, "process"], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_ready(settings, proc, log_file, ready_within)
        yield
    finally:
        children.stop(proc, grace=60)


def wait_ready(settings, proc: subprocess.Popen, log_file: Path, seconds: float) -> None:
    """Until every processor group is stable with members and has no lag on the raw topics."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"`sluice process` exited {proc.returncode}; see {log_file}")
        if groups_stable(settings) and all(lag(settings, consumer_group(g)) == 0 for g in GROUPS):
            return
        time.sleep(0.5)
    raise RuntimeError(f"the processors were not caught up within {seconds:.0f} s; see {log_file}")


def groups_stable(settings) -> bool:
    """True when every processor group has members and no rebalance in progress."""
    admin = admin_client(settings.kafka)
    futures = admin.describe_consumer_groups([consumer_group(g) for g in GROUPS])
    for future in futures.values():
        description = future.result(timeout=30)
        if description.state != ConsumerGroupState.STABLE or not description.members:
            return False
    return True


def lag(settings, group: str, topics: list[str] = TOPICS) -> int:
    """Messages on ``topics`` that ``group`` has not committed yet."""
    consumer = Consumer({**settings.kafka, "group.id": group, "enable.auto.commit": False})
    try:
        partitions = [
            TopicPartition(topic, number)
            for topic in topics
            for number in consumer.list_topics(topic, timeout=30).topics[topic].partitions
        ]
        behind = 0
        for tp in consumer.committed(partitions, timeout=30):
            low, high = consumer.get_watermark_offsets(tp, timeout=30, cached=False)
            behind += high - (tp.offset if tp.offset >= 0 else low)
        return behind
    finally:
        consumer.close()
