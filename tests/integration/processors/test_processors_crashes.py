"""Normalizers as processes: a member killed while another runs, a stop during an outage.

A normalizer killed and restarted by the supervisor mid-stream is a fault drill
(tests/drills/test_processor_drills.py), compared row for row with a run without faults.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import uuid

import pytest

from sluice.kafka.lag import group_lag
from sluice.storage.postgres import connect
from tests.support.crawling import wait_for
from tests.support.processing import product, publish

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


def start_normalizer(settings, topic: str, group: str, *extra: str) -> subprocess.Popen:
    """`sluice process --group normalizer` on ``topic`` as its own process."""
    argv = [
        sys.executable,
        "-m",
        "sluice",
        "process",
        "--group",
        "normalizer",
        "--topic",
        topic,
        "--consumer-group",
        group,
        "--batch-size",
        "100",
        *extra,
    ]
    return subprocess.Popen(
        argv, cwd=settings.project_dir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )


def counts(settings, source: str) -> tuple[int, int]:
    with connect(settings.postgres_reader_url) as conn:
        products = conn.execute(
            "SELECT count(*) FROM products WHERE source = %s", (source,)
        ).fetchone()[0]
        prices = conn.execute(
            "SELECT count(*) FROM product_prices pp JOIN products p ON p.id = pp.product_id "
            "WHERE p.source = %s",
            (source,),
        ).fetchone()[0]
    return products, prices


def test_two_normalizers_share_the_partitions_and_one_finishes_when_the_other_dies(
    migrated, settings, scratch_topic, source
):
    crawl_id = f"test-{uuid.uuid4().hex[:8]}"
    half = 2000

    def batch(first: int) -> list:
        skus = range(first, first + half)
        return [product(source, f"SKU-{i}", "7.00", 0, crawl_id) for i in skus]

    publish(settings, scratch_topic, batch(0))
    group = f"pair-{crawl_id}"
    survivor = start_normalizer(settings, scratch_topic, group)
    victim = start_normalizer(settings, scratch_topic, group)
    said = Output(survivor)
    victim_said = Output(victim)
    wait_for(
        lambda: said.says("assigned") and victim_said.says("assigned"),
        120,
        what="both members to hold partitions",
    )
    wait_for(lambda: counts(settings, source)[0] >= half, 120, what=f"{half} rows")
    victim.send_signal(signal.SIGKILL)
    victim.wait(10)
    # Published after the kill, so the dead member's partitions hold work only the survivor
    # can do, once it takes them over after the session timeout.
    publish(settings, scratch_topic, batch(half))
    wait_for(lambda: counts(settings, source)[0] == 2 * half, 180, what=f"{2 * half} rows")
    survivor.send_signal(signal.SIGTERM)
    code = survivor.wait(60)
    output = said.text()
    assert code == 0, output[-2000:]
    assert "assigned" in output and "revoked" in output  # it did go through a rebalance
    assert counts(settings, source) == (2 * half, 2 * half)


class Output:
    """A process's merged output, collected as it comes so a test can wait on a line."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, args=(process,), daemon=True)
        self._reader.start()

    def _read(self, process: subprocess.Popen) -> None:
        for line in process.stdout:
            self.lines.append(line.decode(errors="replace"))

    def says(self, text: str) -> bool:
        return any(text in line for line in self.lines)

    def text(self) -> str:
        self._reader.join(10)
        return "".join(self.lines)


def test_sigterm_during_a_database_outage_ends_the_normalizer_with_nothing_committed(
    migrated, stack, settings, scratch_topic, source
):
    crawl_id = f"test-{uuid.uuid4().hex[:8]}"
    group = f"outage-{crawl_id}"
    stack.supervisor.stop("postgres")
    try:
        publish(
            settings,
            scratch_topic,
            [product(source, f"SKU-{i}", "7.00", 0, crawl_id) for i in range(50)],
        )
        normalizer = start_normalizer(settings, scratch_topic, group)
        output = Output(normalizer)
        wait_for(lambda: output.says("sink unavailable"), 120, what="a failed write")
        normalizer.send_signal(signal.SIGTERM)
        try:
            # A hang here is the failure: the stop must not wait for the database.
            code = normalizer.wait(30)
        finally:
            normalizer.kill()
    finally:
        stack.supervisor.start("postgres")
    # Nothing committed: the group still lags by every message of its fresh topic.
    lag = group_lag(settings.kafka, group, [scratch_topic])
    assert (code, lag) == (0, 50), output.text()
