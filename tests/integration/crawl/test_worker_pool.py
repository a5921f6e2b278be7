"""The spider worker pool against the real Redis: start, restart, release.

The workers here are small Python processes that exit as told, so each pool decision can be
provoked; real Scrapy workers run under the pool in the Airflow tests.
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid

import pytest

from sluice.crawl import registry
from sluice.crawl.keys import CrawlKeys
from sluice.crawl.pool import HEARTBEAT, WorkerPool, worker_overrides
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
    return client(settings.redis_url, decode=False)


def new_crawl(server, workers: int, params: dict | None = None, queued: int = 5) -> str:
    crawl_id = f"pool-{uuid.uuid4().hex[:8]}"
    keys = CrawlKeys(crawl_id)
    registry.create(server, keys, "ecommerce", ["http://x/"], params)
    if queued:
        server.zadd(keys.queue, {f"request-{n}": 0 for n in range(queued)})
    registry.dispatch(server, crawl_id, workers)
    return crawl_id


def settle(pool: WorkerPool, seconds: float = 1.5) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pool.step()
        time.sleep(0.1)


def test_the_pool_starts_the_wanted_workers_within_its_slots(settings, server):
    launcher = Launcher([], seconds=3)
    pool = WorkerPool(settings, server, launcher, slots=3)
    first, second = new_crawl(server, 2), new_crawl(server, 2)
    pool.step()
    try:
        assert pool.busy() == 3  # 2 + 1: the slot budget holds
        assert server.get(HEARTBEAT) is not None
        started = [call[1] for call in launcher.calls]
        assert started == [first, first, second]  # oldest dispatch first
    finally:
        pool.stop()
        for crawl_id in (first, second):
            registry.release(server, crawl_id)
            server.delete(*CrawlKeys(crawl_id).all())


def test_a_crashed_worker_is_replaced_and_a_done_crawl_released(settings, server):
    launcher = Launcher([1, 0])  # the first worker crashes, its replacement exits cleanly
    pool = WorkerPool(settings, server, launcher, slots=4, max_restarts=2)
    crawl_id = new_crawl(server, 1, {"max_pages": 10})
    try:
        settle(pool)
        assert len(launcher.calls) == 2  # started, crashed, replaced once
        assert launcher.calls[0][2] == {"CLOSESPIDER_PAGECOUNT": "10"}
        # Work is left and nobody runs it: the pool gives the crawl back to its owner.
        assert crawl_id not in registry.dispatched(server)
    finally:
        server.delete(*CrawlKeys(crawl_id).all())


def test_a_finished_crawl_is_released_without_starting_anyone(settings, server):
    launcher = Launcher([])
    pool = WorkerPool(settings, server, launcher, slots=2)
    crawl_id = new_crawl(server, 2, queued=0)
    try:
        pool.step()
        assert launcher.calls == [] and crawl_id not in registry.dispatched(server)
    finally:
        server.delete(*CrawlKeys(crawl_id).all())


def test_max_pages_is_split_among_workers():
    assert worker_overrides({"max_pages": 100}, 3) == {"CLOSESPIDER_PAGECOUNT": "34"}
    assert worker_overrides({}, 3) == {}
