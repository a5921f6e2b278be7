"""The spider worker pool: a long-running service that starts Scrapy workers for dispatched crawls.

Airflow (or anyone) seeds a crawl and dispatches it with the number of workers it wants
(:func:`sluice.crawl.registry.dispatch`); the pool starts that many ``scrapy crawl`` processes
within its slot budget, restarts a worker that died abnormally (its leased requests come back
to the queue anyway), and releases the crawl once it is done and its workers have exited. On
Kubernetes the same role is played by a worker Deployment scaled on the queue length.
"""

from __future__ import annotations

import json
import logging
import math
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import redis

from sluice.crawl import registry
from sluice.crawl.keys import CrawlKeys
from sluice.settings import Settings

log = logging.getLogger(__name__)

#: Redis key the pool refreshes while it runs, so `sluice status` can tell it is alive
HEARTBEAT = "sluice:pool:heartbeat"
HEARTBEAT_TTL = 15

StartWorker = Callable[[Settings, str, str, Path, dict[str, str] | None], subprocess.Popen]


@dataclass
class CrawlWorkers:
    """The pool's processes for one crawl."""

    spider: str
    #: Scrapy settings every worker of the crawl gets (e.g. its share of a page limit)
    overrides: dict[str, str] = field(default_factory=dict)
    started: int = 0
    restarts: int = 0
    processes: list[subprocess.Popen] = field(default_factory=list)

    def alive(self) -> list[subprocess.Popen]:
        """Processes still running."""
        return [p for p in self.processes if p.poll() is None]


def worker_overrides(params: dict, workers: int) -> dict[str, str]:
    """Scrapy settings from a crawl's params: ``max_pages`` is split among its workers."""
    max_pages = int(params.get("max_pages") or 0)
    if max_pages <= 0:
        return {}
    return {"CLOSESPIDER_PAGECOUNT": str(max(1, math.ceil(max_pages / workers)))}


class WorkerPool:
    """Reconciles running workers with dispatched crawls, one :meth:`step` at a time."""

    def __init__(
        self,
        settings: Settings,
        server: redis.Redis,
        start_worker: StartWorker,
        slots: int,
        max_restarts: int = 3,
    ) -> None:
        self.settings = settings
        self.server = server
        self.start_worker = start_worker
        self.slots = slots
        self.max_restarts = max_restarts
        self.crawls: dict[str, CrawlWorkers] = {}

    def busy(self) -> int:
        """Workers running now, over every crawl."""
        return sum(len(c.alive()) for c in self.crawls.values())

    def queue_lengths(self) -> dict[str, int]:
        """Requests waiting in the queues of the crawls this pool works on, by spider."""
        lengths: dict[str, int] = {}
        for crawl_id, workers in self.crawls.items():
            waiting = int(self.server.zcard(CrawlKeys(crawl_id).queue))
            lengths[workers.spider] = lengths.get(workers.spider, 0) + waiting
        return lengths

    def step(self) -> None:
        """Start, restart and release workers once."""
        self.server.set(HEARTBEAT, int(time.time()), ex=HEARTBEAT_TTL)
        for crawl_id, wanted in registry.dispatched(self.server).items():
            self._reconcile(crawl_id, wanted)

    def _reconcile(self, crawl_id: str, wanted: int) -> None:
        keys = CrawlKeys(crawl_id)
        status = registry.status(self.server, keys)
        if not status.spider:
            log.warning("crawl %s was dispatched but has no record; releasing it", crawl_id)
            registry.release(self.server, crawl_id)
            return
        workers = self.crawls.get(crawl_id)
        if workers is None:
            params = json.loads(status.meta.get("params") or "{}")
            workers = self.crawls[crawl_id] = CrawlWorkers(
                status.spider, worker_overrides(params, wanted)
            )
        self._reap(crawl_id, workers)
        alive = workers.alive()
        if status.done or status.finished:
            if not alive:
                log.info("crawl %s is done; releasing it", crawl_id)
                registry.release(self.server, crawl_id)
                del self.crawls[crawl_id]
            return
        while workers.started < wanted and self.busy() < self.slots:
            self._start(crawl_id, workers, workers.started)
            workers.started += 1
        if workers.started >= wanted and not workers.alive():
            # Every worker ended on its own (e.g. at a page limit) with work left: nothing the
            # pool should restart. The crawl's owner decides what to do with the rest.
            log.info("crawl %s: every worker has ended with work left; releasing it", crawl_id)
            registry.release(self.server, crawl_id)
            del self.crawls[crawl_id]

    def _reap(self, crawl_id: str, workers: CrawlWorkers) -> None:
        for process in list(workers.processes):
            code = process.poll()
            if code is None:
                continue
            workers.processes.remove(process)
            if code == 0:
                continue
            if workers.restarts >= self.max_restarts:
                log.error(
                    "crawl %s: a worker exited with %s and the restart budget (%s) is spent",
                    crawl_id,
                    code,
                    self.max_restarts,
                )
                continue
            workers.restarts += 1
            log.warning(
                "crawl %s: a worker exited with %s; starting another (%s/%s)",
                crawl_id,
                code,
                workers.restarts,
                self.max_restarts,
            )
            self._start(crawl_id, workers, workers.started + workers.restarts)

    def _start(self, crawl_id: str, workers: CrawlWorkers, number: int) -> None:
        log_file = self.settings.stack_dir / "logs" / "crawls" / crawl_id / f"worker-{number}.log"
        workers.processes.append(
            self.start_worker(self.settings, workers.spider, crawl_id, log_file, workers.overrides)
        )
        log.info("crawl %s: started worker %s (%s)", crawl_id, number, log_file)

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM every worker and wait; their unfinished requests go back to the queue."""
        processes = [p for c in self.crawls.values() for p in c.alive()]
        for process in processes:
            process.terminate()
        deadline = time.monotonic() + timeout
        for process in processes:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
        self.server.delete(HEARTBEAT)
