"""The spider worker pool against the real Redis: start, restart, release.

The workers here are small Python processes that exit as told, so each pool decision can be
provoked; real Scrapy workers run under the pool in the Airflow tests.
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from urllib.parse import urlsplit

import pytest

from sluice.crawl import registry
from sluice.crawl.keys import CrawlKeys
from sluice.crawl.leases import LeasedQueue, QueueState
from sluice.crawl.pool import HEARTBEAT, WorkerPool
from sluice.storage.redis import client

pytestmark = [pytest.mark.redis]


class Launcher:
    """Starts stand-in workers that sleep and exit with the next planned code."""

    def __init__(self, codes: list[int], seconds: float = 0.2) -> None:
        self.codes = codes
        self.seconds = seconds
        self.calls: list[tuple[str, str, dict | None]] = []

    def __call__(self, settings, spider, crawl_id, log_file, overrides):
        self.calls.append((spider, crawl_id, overrides))
        code = self.codes.pop(0) if self.codes else 0
        script = f"import time, sys; time.sleep({self.seconds}); sys.exit({code})"
        return subprocess.Popen([sys.executable, "-c", script])


@pytest.fixture
def server(stack, settings):
    """A Redis database of these tests' own: the platform's pool, when it runs, watches the
    default one and must not take the slots of the crawls dispatched here."""
    own = urlsplit(settings.redis_url)._replace(path="/9").geturl()
    found = client(own, decode=False)
    yield found
    found.delete(registry.DISPATCH, registry.DISPATCH_WORKERS, HEARTBEAT)


def new_crawl(server, workers: int, params: dict | None = None, queued: int = 5) -> str:
    crawl_id = f"pool-{uuid.uuid4().hex[:8]}"
    keys = CrawlKeys(crawl_id)
    registry.create(server, keys, "ecommerce", ["http://x/"], params)
    if queued:
        LeasedQueue(server, keys).push_many(
            [(f"request-{n}".encode(), "pool.localhost", 0) for n in range(queued)]
        )
    registry.dispatch(server, crawl_id, workers)
    return crawl_id


def settle(pool: WorkerPool, seconds: float = 1.5) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pool.step()
        time.sleep(0.1)


def cleanup(server, *crawl_ids: str) -> None:
    for crawl_id in crawl_ids:
        registry.conclude(server, crawl_id)
        server.delete(*CrawlKeys(crawl_id).all())


def test_the_pool_starts_the_wanted_workers_within_its_slots(settings, server):
    launcher = Launcher([], seconds=3)
    pool = WorkerPool(settings, server, launcher, slots=3)
    first = new_crawl(server, 2)
    time.sleep(0.01)  # dispatched in a later millisecond: the order is the dispatch time's
    second = new_crawl(server, 2)
    pool.step()
    try:
        assert pool.busy() == 3  # 2 + 1: the slot budget holds
        assert server.get(HEARTBEAT) is not None
        started = [call[1] for call in launcher.calls]
        assert started == [first, first, second]  # oldest dispatch first
    finally:
        pool.stop()
        cleanup(server, first, second)


def test_replicas_together_start_exactly_the_wanted_workers(settings, server):
    launchers = [Launcher([], seconds=5) for _ in range(3)]
    pools = [WorkerPool(settings, server, launcher, slots=4) for launcher in launchers]
    crawl_id = new_crawl(server, 4)
    try:
        for _ in range(3):
            for pool in pools:
                pool.step()
        # Never more started than wanted, and all of them still running.
        started = sum(len(launcher.calls) for launcher in launchers)
        assert (started, sum(pool.busy() for pool in pools)) == (4, 4)
    finally:
        for pool in pools:
            pool.stop()
        cleanup(server, crawl_id)


def test_a_killed_replicas_slots_are_taken_over_after_their_ttl(settings, server):
    silent = WorkerPool(settings, server, Launcher([], seconds=30), slots=2, claim_ttl=1)
    survivor_launcher = Launcher([], seconds=30)
    survivor = WorkerPool(settings, server, survivor_launcher, slots=2, claim_ttl=1)
    crawl_id = new_crawl(server, 2)
    try:
        silent.step()  # takes both slots, then stops renewing them, as if SIGKILLed
        survivor.step()
        taken_at_once = survivor.busy()
        time.sleep(1.2)
        survivor.step()
        assert (taken_at_once, survivor.busy()) == (0, 2)
    finally:
        silent.stop()
        survivor.stop()
        cleanup(server, crawl_id)


def test_a_replica_stopped_gracefully_hands_its_slots_over_at_once(settings, server):
    leaving = WorkerPool(settings, server, Launcher([], seconds=30), slots=2)
    staying = WorkerPool(settings, server, Launcher([], seconds=30), slots=2)
    crawl_id = new_crawl(server, 2)
    try:
        leaving.step()
        leaving.stop()
        staying.step()
        assert staying.busy() == 2
    finally:
        staying.stop()
        cleanup(server, crawl_id)


def test_the_restart_budget_is_the_crawls_across_replicas(settings, server):
    launchers = [Launcher([1] * 5, seconds=0.1) for _ in range(2)]
    pools = [WorkerPool(settings, server, lc, slots=1, max_restarts=2) for lc in launchers]
    crawl_id = new_crawl(server, 2)
    try:
        deadline = time.monotonic() + 10
        while crawl_id in registry.dispatched(server) and time.monotonic() < deadline:
            for pool in pools:
                pool.step()
            time.sleep(0.05)
        # 2 first starts + 2 restarts for the whole crawl, whichever replica ran them
        assert sum(len(launcher.calls) for launcher in launchers) == 4
    finally:
        cleanup(server, crawl_id)


def test_a_crawl_whose_workers_all_failed_is_concluded_failed_with_a_reason(settings, server):
    pool = WorkerPool(settings, server, Launcher([1, 1, 1], seconds=0.1), slots=2, max_restarts=1)
    crawl_id = new_crawl(server, 1)
    try:
        settle(pool, 3)
        status = registry.status(server, CrawlKeys(crawl_id))
        assert (crawl_id in registry.dispatched(server), status.failure) == (
            False,
            "every worker has ended (a worker exited with 1 and the restart budget (1) is "
            "spent) with 5 requests queued and 0 in flight",
        )
    finally:
        cleanup(server, crawl_id)


def test_a_finished_crawl_is_released_without_starting_anyone(settings, server):
    launcher = Launcher([])
    pool = WorkerPool(settings, server, launcher, slots=2)
    crawl_id = new_crawl(server, 2, queued=0)
    try:
        pool.step()
        assert launcher.calls == [] and crawl_id not in registry.dispatched(server)
    finally:
        cleanup(server, crawl_id)


def test_a_crawl_is_concluded_by_exactly_one_caller(settings, server):
    crawl_id = new_crawl(server, 1, queued=0)
    try:
        outcomes = [registry.conclude(server, crawl_id, f"reason {n}") for n in range(3)]
        failure = registry.status(server, CrawlKeys(crawl_id)).failure
        assert (outcomes, failure) == ([True, False, False], "reason 0")
    finally:
        cleanup(server, crawl_id)


def test_the_janitor_requeues_lapsed_leases_without_any_worker(settings, server):
    crawl_id = new_crawl(server, 1, queued=2)
    keys = CrawlKeys(crawl_id)
    try:
        LeasedQueue(server, keys, lease_ttl=0.05).pop()
        time.sleep(0.1)
        pool = WorkerPool(settings, server, Launcher([], seconds=5), slots=0)
        pool.step()
        assert LeasedQueue(server, keys).state() == QueueState(queued=2, in_flight=0)
    finally:
        cleanup(server, crawl_id)
