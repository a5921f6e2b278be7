"""Processor-side fault drills: crash a processor or a store while a seeded backlog drains,
let the supervisor bring it back, and compare everything stored with a run without faults."""

from __future__ import annotations

import signal
import time

import pytest

from tests.support.drill_data import Fingerprint, Stream, fingerprint
from tests.support.drill_processing import Backlog

pytestmark = [pytest.mark.drill, pytest.mark.kafka, pytest.mark.postgres, pytest.mark.mongo]

#: every drill drains the same stream, under a tag of its own
SEED = 15


def share(value: float, total: int) -> str:
    """``value`` of ``total`` messages, as the report shows when a fault hit."""
    return f"{value:.0%} of {total:,} messages"


@pytest.fixture(scope="module")
def reference(drill_stack, drill_size) -> Fingerprint:
    """The stream drained without faults: what every drill must end with."""
    backlog = Backlog(drill_stack, Stream(SEED, drill_size)).publish()
    backlog.start()
    backlog.wait_drained()
    return fingerprint(backlog.settings, backlog.stream)


def test_normalizer_killed_at_20_50_and_80_percent(
    drill_stack, drill_size, drill_report, reference
):
    backlog = Backlog(drill_stack, Stream(SEED, drill_size)).publish()
    backlog.start()
    recoveries, hits = [], []
    for point in (0.2, 0.5, 0.8):
        fault, hit = backlog.crash_at("normalizer", point, "normalizer")
        hits.append(hit)
        recoveries.append(backlog.wait_resumed("normalizer", fault))
    backlog.wait_drained()
    hit_at = ", ".join(f"{hit:.0%}" for hit in hits) + f" of {backlog.total:,} messages"
    fault = "normalizer SIGKILL, three times"
    row = backlog.row("normalizer-kill", fault, hit_at, reference, max(recoveries))
    assert drill_report.record(row).passed, row.detail


def single_fault(
    drill_stack, drill_size, watched: str, at: float, victim: str, outage: float = 0.0
) -> tuple[Backlog, str, float]:
    """Drain the stream, SIGKILL ``victim`` once ``watched`` has committed ``at`` of it (and
    keep it down ``outage`` seconds); return the backlog, when the fault hit and how long
    ``watched`` took to move on."""
    backlog = Backlog(drill_stack, Stream(SEED, drill_size)).publish()
    backlog.start()
    fault, hit = backlog.crash_at(watched, at, victim)
    if outage:
        drill_stack.hold_down(fault)
        time.sleep(outage)  # the outage itself: the processors must wait it out
        drill_stack.bring_back(victim)
    recovery = backlog.wait_resumed(watched, fault)
    backlog.wait_drained()
    return backlog, f"{share(hit, backlog.total)} ({watched})", recovery


def test_archiver_killed_at_half_way(drill_stack, drill_size, drill_report, reference):
    backlog, hit, recovery = single_fault(drill_stack, drill_size, "archiver", 0.5, "archiver")
    row = backlog.row("archiver-kill", "archiver SIGKILL", hit, reference, recovery)
    assert drill_report.record(row).passed, row.detail


def test_kafka_broker_killed_while_the_processors_drain_a_backlog(
    drill_stack, drill_size, drill_report, reference
):
    backlog, hit, recovery = single_fault(drill_stack, drill_size, "normalizer", 0.4, "kafka")
    fault = "Kafka broker SIGKILL, restarted by the supervisor"
    row = backlog.row("kafka-kill-while-draining", fault, hit, reference, recovery)
    assert drill_report.record(row).passed, row.detail


def test_postgres_crashed_and_down_mid_stream(drill_stack, drill_size, drill_report, reference):
    # The 30 s at full size; the reduced run in `make test` keeps it shorter.
    down = 30 if drill_size >= 100_000 else 10
    backlog, hit, recovery = single_fault(
        drill_stack, drill_size, "normalizer", 0.3, "postgres", outage=down
    )
    fault = f"PostgreSQL postmaster SIGKILL, kept down {down} s"
    row = backlog.row("postgres-crash", fault, hit, reference, recovery)
    assert drill_report.record(row).passed, row.detail


def test_ferretdb_killed_mid_archive(drill_stack, drill_size, drill_report, reference):
    backlog, hit, recovery = single_fault(drill_stack, drill_size, "archiver", 0.5, "ferretdb")
    fault = "FerretDB SIGKILL, restarted by the supervisor"
    row = backlog.row("ferretdb-kill", fault, hit, reference, recovery)
    assert drill_report.record(row).passed, row.detail


def test_the_normalizer_drill_reports_a_loss_when_offsets_are_committed_before_writing(
    drill_stack, drill_size, tmp_path, reference
):
    """The control: with the ordering bug switched on, a kill must cost rows.

    The kill follows a commit by milliseconds, and the buggy normalizer commits a batch before
    it validates and writes it, so the kill lands in that window.
    """
    backlog = Backlog(drill_stack, Stream(SEED, drill_size)).publish()
    backlog.start("archiver")
    unsafe = drill_stack.scratch.popen(
        "process",
        "--group",
        "normalizer",
        log=tmp_path / "unsafe-normalizer.log",
        component="processor",
        drill_commit_before_write="1",
    )
    try:
        backlog.wait_progress("normalizer", 0.5)
        unsafe.send_signal(signal.SIGKILL)
    finally:
        unsafe.kill()
        unsafe.wait(30)
        # The stack's own normalizer drains the rest, from the offsets the bug committed.
        backlog.start("normalizer")
    backlog.wait_drained()
    row = backlog.row("normalizer-kill (control)", "commit before write", "", reference, 0.0)
    assert row.losses > 0, row.detail
