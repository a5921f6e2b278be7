"""Crawl-side fault drills: Kafka, Redis and the worker pool crash while a crawl runs.

Each drill crawls the drill stack's demo shop with two workers of the pool the supervisor
runs, crashes one part when the crawl has scraped enough, leaves the recovery to the
platform, and compares the crawl with a reference crawl of the same shop without faults:
the crawl completes, every product the shop has is on the raw topic for the crawl (delivered
== scraped), and every one is stored. The demo shop's catalogue is fixed (546 products), so
``--drill-size`` does not change these drills.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from demo.catalog import Catalog
from tests.support.crawl_drill import (
    POOL,
    WORKERS,
    CrawlDrill,
    CrawlOutcome,
    Injected,
    kill_pid,
)
from tests.support.crawling import wait_for
from tests.support.drill_report import DrillReport, DrillRow
from tests.support.drill_stack import DrillStack

pytestmark = [pytest.mark.drill]

#: how long drill 3 keeps the broker down
KAFKA_DOWN_SECONDS = 10.0


@pytest.fixture(scope="module")
def crawl_drill(drill_stack: DrillStack) -> Iterator[CrawlDrill]:
    """The drill stack with its worker pool and demo site running."""
    result = drill_stack.scratch.cli("up", POOL, "demo-site", timeout=600)
    assert result.returncode == 0, f"{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
    yield CrawlDrill(drill_stack)
    # The processor drills share the stack: leave it as they expect it.
    for program in (POOL, "demo-site"):
        drill_stack.supervisor.stop(program)


@pytest.fixture(scope="module")
def reference(crawl_drill: CrawlDrill) -> CrawlOutcome:
    """A crawl of the demo shop without faults, checked against the shop's catalogue."""
    outcome = crawl_drill.run()
    catalog = Catalog(seed=7).expected_public_products(
        datetime.now(UTC).date(), base_url=crawl_drill.settings.demo_site_url
    )
    found = {key.split(":", 1)[1] for key in outcome.keys}
    assert (outcome.failure, outcome.finished, found) == (None, True, set(catalog)), (
        "the reference crawl is not the whole shop: the drills would compare with a wrong one"
    )
    return outcome


def judge(
    name: str, fault: str, reference: CrawlOutcome, outcome: CrawlOutcome, **checks: bool
) -> DrillRow:
    """The drill's row: ``outcome`` against ``reference``, with the drill's own ``checks``."""
    missing = reference.keys - outcome.keys
    checks = {
        "crawl complete": outcome.finished and outcome.failure is None,
        "delivered == scraped": not missing and outcome.keys <= reference.keys,
        "all products stored": outcome.rows_out == len(reference.keys),
        "no dead letters": outcome.dlq_entries == reference.dlq_entries == 0,
        **checks,
    }
    stats = outcome.stats
    detail = (
        f"crawl {outcome.crawl_id} took {outcome.seconds:.0f} s (reference {reference.seconds:.0f}"
        f" s); {len(outcome.keys)} of {len(reference.keys)} product keys on the raw topic in "
        f"{outcome.messages} messages; worker counters: {stats.get('item_scraped_count', 0)} "
        f"scraped, {stats.get('kafka/produced', 0)} produced, "
        f"{stats.get('kafka/delivered', 0)} delivered, "
        f"{stats.get('kafka/delivery_failed', 0)} failed deliveries, "
        f"{stats.get('scheduler/lease_lapsed', 0)} lapsed leases"
    )
    if outcome.failure:
        detail += f"; the crawl failed: {outcome.failure}"
    if missing:
        detail += f"; missing e.g. {', '.join(sorted(missing)[:5])}"
    if outcome.notes:
        detail += "; " + "; ".join(outcome.notes)
    return DrillRow(
        name=name,
        fault=fault,
        hit_at=f"{outcome.scraped_at_hit} of {len(reference.keys)} items scraped",
        items_in=len(reference.keys),
        rows_out=outcome.rows_out,
        duplicates=outcome.duplicates,
        losses=len(missing),
        dlq_entries=outcome.dlq_entries,
        recovery_seconds=outcome.recovery_seconds,
        passed=all(checks.values()),
        detail=detail + ".",
        checks=checks,
    )


def kafka_drill(crawl_drill: CrawlDrill, reference: CrawlOutcome) -> DrillRow:
    """Drill 3: the broker SIGKILLed at half the crawl, kept down 10 s, started again."""
    outcome = crawl_drill.run(
        crawl_drill.kill_and_hold("kafka", KAFKA_DOWN_SECONDS), hit_items=len(reference.keys) // 2
    )
    return judge(
        "kafka-kill-mid-crawl",
        f"Kafka broker SIGKILL, {WORKERS} workers, restarted after {KAFKA_DOWN_SECONDS:.0f} s",
        reference,
        outcome,
    )


def test_a_kafka_broker_killed_mid_crawl_loses_nothing_scraped(
    crawl_drill: CrawlDrill, reference: CrawlOutcome, drill_report: DrillReport
):
    row = drill_report.record(kafka_drill(crawl_drill, reference))
    assert row.passed, row.detail


AOF_NOTE = (
    "Redis keeps the crawl state (queue, leases, duplicate filter, acknowledgements) with the "
    "append-only file fsynced once a second (appendfsync everysec): a machine crash can lose "
    "the last second of those writes, a SIGKILL of redis-server alone loses none (they are in "
    "the kernel's page cache). A lost second is a suffix of the log, and a worker queues a "
    "page's links before it acknowledges the page, and acknowledges only after Kafka has "
    "confirmed the page's items: losing the tail can forget acknowledgements and leases "
    "(their pages are fetched again: duplicates on the raw topic), never a queued link whose "
    "page stays acknowledged (a link's duplicate-filter bits and its queue entry are written "
    "by one script, so they are kept or lost together); it costs re-fetches and duplicate "
    "messages, not products. "
    "The redis-kill-mid-crawl drill found {found}."
)


def test_redis_killed_mid_crawl_ends_with_the_whole_shop(
    crawl_drill: CrawlDrill, reference: CrawlOutcome, drill_report: DrillReport
):
    outcome = crawl_drill.run(crawl_drill.kill("redis"), hit_items=len(reference.keys) // 2)
    row = drill_report.record(
        judge(
            "redis-kill-mid-crawl",
            "Redis SIGKILL, restarted by the supervisor",
            reference,
            outcome,
        )
    )
    drill_report.note(
        AOF_NOTE.format(found=f"{row.losses} lost products and {row.duplicates} duplicate messages")
    )
    assert row.passed, row.detail


def test_a_worker_killed_and_a_pool_stopped_mid_crawl_hand_the_crawl_on(
    crawl_drill: CrawlDrill, reference: CrawlOutcome, drill_report: DrillReport, tmp_path
):
    drill = crawl_drill
    total = len(reference.keys)
    replica = None
    handed_on = False

    def inject(crawl_id: str) -> Injected:
        nonlocal replica
        pool = drill.stack.pid(POOL)
        wait_for(
            lambda: len(drill.worker_pids(crawl_id, pool)) == WORKERS,
            120,
            what="the pool's workers",
        )
        # Started only now, so the crawl's slots are the supervised pool's until it stops.
        replica = drill.scratch.popen(
            "worker", "--slots", "4", "--poll", "0.5", log=tmp_path / "replica.log",
            pool_claim_ttl="5", metrics_port="0",
        )  # fmt: skip
        killed = drill.worker_pids(crawl_id, pool)[0]
        at = kill_pid(killed, signal.SIGKILL)
        wait_for(
            lambda: (
                len(drill.worker_pids(crawl_id, pool)) == WORKERS
                and killed not in drill.worker_pids(crawl_id, pool)
            ),
            120,
            what="the pool to restart the killed worker",
        )
        notes = [f"the pool restarted the SIGKILLed worker in {time.monotonic() - at:.1f} s"]
        drill.wait_scraped(crawl_id, total // 2)
        # A scale-down signals the replica alone; it stops its workers and gives the slots up.
        term_at = kill_pid(pool, signal.SIGTERM)
        notes.append(f"the pool got SIGTERM at {drill.scraped(crawl_id)} items scraped")

        def recovered() -> bool:
            nonlocal handed_on
            if replica.poll() is not None:
                return False
            if len(drill.worker_pids(crawl_id, replica.pid)) == WORKERS:
                handed_on = True
                notes.append(
                    f"the replica ran both workers {time.monotonic() - term_at:.1f} s after it"
                )
            return handed_on or drill.dispatched(crawl_id) is False

        return Injected(at, recovered, notes)

    try:
        outcome = drill.run(inject, hit_items=total // 4)
    finally:
        if replica is not None:
            replica.send_signal(signal.SIGTERM)
            replica.wait(90)
        # The supervisor leaves a pool that stopped cleanly stopped; the next drills want it.
        drill.stack.supervisor.start(POOL)
    row = drill_report.record(
        judge(
            "worker-kill-and-pool-sigterm",
            "a spider worker SIGKILL, then its pool SIGTERM with a second pool replica running",
            reference,
            outcome,
            **{"the replica took the crawl over": handed_on},
        )
    )
    assert row.passed, row.detail


def test_the_kafka_drill_reports_a_loss_when_requests_are_acked_before_delivery(
    crawl_drill: CrawlDrill, reference: CrawlOutcome, tmp_path
):
    drill = crawl_drill
    drill.stack.supervisor.stop(POOL)
    # The supervisor's pool keeps the environment its supervisord started with, so the
    # broken pool runs beside it as a replica of its own, with the switch on.
    broken = drill.scratch.popen(
        "worker", "--poll", "0.5", log=tmp_path / "broken-pool.log",
        drill_ack_before_delivery="1", metrics_port="0",
    )  # fmt: skip
    try:
        row = kafka_drill(drill, reference)
    finally:
        broken.send_signal(signal.SIGTERM)
        broken.wait(90)
        drill.stack.supervisor.start(POOL)
        wait_for(
            lambda: drill.stack.supervisor.states()[POOL].state == "RUNNING", 60, what="the pool"
        )
    assert row.losses > 0 and not row.passed, row.detail
