"""The spider worker pool: a long-running service that starts Scrapy workers for dispatched crawls.

Airflow (or anyone) seeds a crawl and dispatches it with the number of workers it wants
(:func:`sluice.crawl.registry.dispatch`). Any number of pool replicas may run, on any number of
machines: each claims worker slots of the crawl in Redis (:mod:`sluice.crawl.claims`) and runs
one ``scrapy crawl`` process per slot it holds, so the crawl has ``wanted`` workers however many
replicas there are. A replica restarts a worker that died abnormally (the restart budget is the
crawl's, in Redis), requeues lapsed leases even when no worker is left to pop them, and the
crawl is concluded exactly once: released when it is over, or marked failed with a reason when
every worker has ended with work left. A replica stopped with SIGTERM stops its workers (they
give their leases back) and gives its slots back for another replica to take.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import redis

from sluice.crawl import claims, registry
from sluice.crawl.keys import CrawlKeys
from sluice.crawl.leases import LeasedQueue
from sluice.settings import Settings

log = logging.getLogger(__name__)

#: Redis key the pool refreshes while it runs, so `sluice status` can tell it is alive
HEARTBEAT = "sluice:pool:heartbeat"
HEARTBEAT_TTL = 15

StartWorker = Callable[[Settings, str, str, Path, dict[str, str] | None], subprocess.Popen]


@dataclass
class CrawlWorkers:
    """This replica's processes for one crawl, by the slot each runs in."""

    spider: str
    processes: dict[int, subprocess.Popen] = field(default_factory=dict)
    launched: int = 0

    def alive(self) -> list[subprocess.Popen]:
        """Processes still running."""
        return [p for p in self.processes.values() if p.poll() is None]


def replica_id() -> str:
    """This pool process's name in the claims: ``<host>:<pid>:<random>``."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class WorkerPool:
    """Reconciles this replica's workers with the dispatched crawls, one :meth:`step` at a time."""

    def __init__(
        self,
        settings: Settings,
        server: redis.Redis,
        start_worker: StartWorker,
        slots: int,
        max_restarts: int = 3,
        claim_ttl: float = 15.0,
        replica: str | None = None,
    ) -> None:
        self.settings = settings
        self.server = server
        self.start_worker = start_worker
        self.slots = slots
        self.max_restarts = max_restarts
        self.replica = replica or replica_id()
        self.claims = claims.Claims(server, self.replica, claim_ttl)
        self.crawls: dict[str, CrawlWorkers] = {}

    def busy(self) -> int:
        """Workers running now, over every crawl."""
        return sum(len(c.alive()) for c in self.crawls.values())

    def queue_lengths(self) -> dict[str, int]:
        """Requests waiting in the queues of the crawls this pool works on, by spider."""
        lengths: dict[str, int] = {}
        for crawl_id, workers in self.crawls.items():
            waiting = int(self.server.get(CrawlKeys(crawl_id).queued) or 0)
            lengths[workers.spider] = lengths.get(workers.spider, 0) + waiting
        return lengths

    def step(self) -> None:
        """Start, restart, stop and conclude workers once."""
        self.server.set(HEARTBEAT, int(time.time()), ex=HEARTBEAT_TTL)
        dispatched = registry.dispatched(self.server)
        for crawl_id in [c for c in self.crawls if c not in dispatched]:
            # Concluded by another replica or by its owner (e.g. finalized at a page limit).
            self._stop_crawl(crawl_id)
        for crawl_id, wanted in dispatched.items():
            self._reconcile(crawl_id, wanted)

    def _reconcile(self, crawl_id: str, wanted: int) -> None:
        keys = CrawlKeys(crawl_id)
        status = registry.status(self.server, keys)
        if not status.spider:
            if registry.conclude(self.server, crawl_id, "dispatched without a crawl record"):
                log.warning("crawl %s was dispatched but has no record; released", crawl_id)
            return
        requeued = LeasedQueue(self.server, keys).requeue_lapsed()
        if requeued:
            log.info("crawl %s: requeued %d lapsed leases", crawl_id, requeued)
        workers = self.crawls.setdefault(crawl_id, CrawlWorkers(status.spider))
        self._reap(crawl_id, workers)
        for slot in self.claims.renew(crawl_id, list(workers.processes)):
            log.warning("crawl %s: slot %s was taken over by another replica", crawl_id, slot)
            workers.processes.pop(slot).terminate()
        if not status.over:
            for slot in self.claims.claim(crawl_id, wanted, self.slots - self.busy()):
                self._start(crawl_id, workers, slot)
        self._conclude_if_ended(crawl_id, wanted, status)

    def _conclude_if_ended(self, crawl_id: str, wanted: int, status: registry.CrawlStatus) -> None:
        slots = claims.view(self.server, crawl_id, wanted)
        if slots.running:
            return
        if status.over:
            failure = None
        elif slots.all_ended:
            reasons = sorted(set(slots.ended.values()))
            failure = (
                f"every worker has ended ({'; '.join(reasons)}) with {status.queued} requests "
                f"queued and {status.in_flight} in flight"
            )
        else:
            return
        retain = self.settings.crawl_key_ttl
        if registry.conclude(self.server, crawl_id, failure, retain_seconds=retain):
            log.log(
                logging.ERROR if failure else logging.INFO,
                "crawl %s concluded: %s",
                crawl_id,
                failure or "over",
            )
        self.crawls.pop(crawl_id, None)

    def _reap(self, crawl_id: str, workers: CrawlWorkers) -> None:
        for slot, process in list(workers.processes.items()):
            code = process.poll()
            if code is None:
                continue
            del workers.processes[slot]
            if code == 0:
                self.claims.end(crawl_id, slot, "exited when the crawl was over")
                continue
            restarts = claims.count_restart(self.server, crawl_id)
            if restarts > self.max_restarts:
                reason = (
                    f"a worker exited with {code} and the restart budget "
                    f"({self.max_restarts}) is spent"
                )
                log.error("crawl %s: %s", crawl_id, reason)
                self.claims.end(crawl_id, slot, reason)
                continue
            log.warning(
                "crawl %s: the worker in slot %s exited with %s; starting another (%s/%s)",
                crawl_id,
                slot,
                code,
                restarts,
                self.max_restarts,
            )
            self._start(crawl_id, workers, slot)

    def _start(self, crawl_id: str, workers: CrawlWorkers, slot: int) -> None:
        workers.launched += 1
        name = f"worker-{slot}-{self.replica.replace(':', '-')}-{workers.launched}.log"
        log_file = self.settings.stack_dir / "logs" / "crawls" / crawl_id / name
        workers.processes[slot] = self.start_worker(
            self.settings, workers.spider, crawl_id, log_file, None
        )
        log.info("crawl %s: started the worker of slot %s (%s)", crawl_id, slot, log_file)

    def _stop_crawl(self, crawl_id: str) -> None:
        workers = self.crawls.pop(crawl_id)
        self._terminate(workers.alive())
        self._give_back(crawl_id, workers)

    def _give_back(self, crawl_id: str, workers: CrawlWorkers) -> None:
        for slot in workers.processes:
            try:
                self.claims.give_back(crawl_id, slot)
            except redis.RedisError as exc:
                log.warning("crawl %s: slot %s not given back (%s); it lapses", crawl_id, slot, exc)

    @staticmethod
    def _terminate(processes: list[subprocess.Popen], timeout: float = 30.0) -> None:
        for process in processes:
            process.terminate()
        deadline = time.monotonic() + timeout
        for process in processes:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM every worker and wait (their unfinished requests go back to the queue), then
        give their slots back so another replica takes them over at once."""
        self._terminate([p for c in self.crawls.values() for p in c.alive()], timeout)
        for crawl_id, workers in self.crawls.items():
            self._give_back(crawl_id, workers)
        self.server.delete(HEARTBEAT)
