"""The lease protocol of a worker: one request is leased, fetched, its output made durable,
and only then acknowledged. Every step, in this order:

1. **lease** — the scheduler pops the request from the crawl's shared queue as a lease
   (:meth:`sluice.crawl.leases.LeasedQueue.pop`) and :meth:`LeaseBook.hold` s it; the lease id
   travels in the request's meta (``LEASE_META``), and its errback becomes the spider's
   ``errback_lease`` (its own errback is kept by name in ``ERRBACK_META``). The scheduler's
   heartbeat renews every lease the book holds (:meth:`LeaseBook.renew`).
2. **fetch** — the request is downloaded. A retry or redirect of it goes back to the shared
   queue, and the new queue entry supersedes the lease (the scheduler completes it).
3. **complete** — once the callback's whole output has been produced (its follow-up requests
   queued first, so the crawl never looks empty while work is under way), the lease
   middleware calls :meth:`LeaseBook.complete`; a request that finally failed is recorded and
   completed by the errback (:meth:`LeaseBook.fail`).
4. **durable, remembered, then acknowledged** — :meth:`LeaseBook.flush` runs every
   ``before_ack`` hook (the Kafka pipeline's flush: every item produced so far confirmed by
   Kafka), then every ``after_durable`` hook (what may be remembered only of durable items:
   the fingerprints of the products published, :mod:`sluice.crawl.fingerprints`), and only
   then acknowledges the leases in Redis. A hook that fails leaves them unacknowledged: they
   lapse and their requests are fetched again, so nothing is lost.

A worker stopped gracefully gives the leases it still holds back at once
(:meth:`LeaseBook.release_held`); a worker killed stops renewing, and its leases lapse.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import redis
from scrapy import Request

from sluice.crawl.leases import LeasedQueue

log = logging.getLogger(__name__)

LEASE_META = "_sluice_lease"
ERRBACK_META = "_sluice_errback"
#: meta of one attempt's history, dropped from a failed page kept for a retry: the retry starts
#: with fresh retry and throttling budgets
ATTEMPT_META = ("retry_times", "sluice_throttled_since", "download_latency")


def book_of(spider) -> LeaseBook | None:
    """The lease book the scheduler gave the spider (None outside a Sluice crawl)."""
    return getattr(spider, "lease_book", None)


def lease_of(request: Request) -> str | None:
    """The lease id a request carries (None for requests not popped from the shared queue)."""
    return request.meta.get(LEASE_META)


class LeaseBook:
    """The leases one worker holds for one crawl."""

    def __init__(
        self, queue: LeasedQueue, encode: Callable[[Request], bytes] | None = None
    ) -> None:
        self.queue = queue
        self.encode = encode
        self.held: set[str] = set()
        self.completed: list[str] = []
        self.before_ack: list[Callable[[], None]] = []
        self.after_durable: list[Callable[[], None]] = []

    def hold(self, lease_id: str) -> None:
        """A request was popped under ``lease_id``."""
        self.held.add(lease_id)

    def complete(self, request: Request) -> None:
        """The request's work is done (or it was replaced by a retry/redirect in the queue)."""
        lease_id = request.meta.pop(LEASE_META, None)
        if lease_id and lease_id in self.held:
            self.held.discard(lease_id)
            self.completed.append(lease_id)

    def fail(self, request: Request, reason: str) -> None:
        """The request finally failed: record it (the crawl becomes partial), then it is done."""
        if self.encode is not None:
            meta = {k: v for k, v in request.meta.items() if k not in ATTEMPT_META}
            try:
                data = self.encode(request.replace(meta=meta))
                self.queue.record_failure(request.url, reason, data)
            except redis.RedisError as exc:
                log.error("could not record the failure of %s (%s): %s", request.url, reason, exc)
        self.complete(request)

    @property
    def outstanding(self) -> int:
        """Leases held or completed but not yet acknowledged in Redis."""
        return len(self.held) + len(self.completed)

    def flush(self) -> int:
        """Acknowledge completed leases once their output is durable; return how many.

        A failing hook (Kafka could not deliver) raises: the leases stay unacknowledged, so
        their requests go back to the queue when they lapse, and nothing is lost.
        """
        if not self.completed:
            return 0
        batch = list(self.completed)
        for hook in self.before_ack:
            hook()
        for hook in self.after_durable:
            hook()
        try:
            self.queue.ack(batch)
        except redis.RedisError as exc:
            log.warning("could not acknowledge %d leases yet (%s); will retry", len(batch), exc)
            return 0
        del self.completed[: len(batch)]
        return len(batch)

    def renew(self) -> None:
        """Extend every lease this worker still works on (held or awaiting ack)."""
        ids = [*self.held, *self.completed]
        try:
            self.queue.renew(ids)
        except redis.RedisError as exc:
            log.warning("could not renew %d leases (%s); will retry", len(ids), exc)

    def release_held(self) -> None:
        """Give held (unfinished) leases back to the queue at once, e.g. on a graceful stop."""
        if not self.held:
            return
        try:
            self.queue.release(list(self.held))
        except redis.RedisError as exc:
            log.warning("could not release %d leases (%s); they will lapse", len(self.held), exc)
        self.held.clear()
