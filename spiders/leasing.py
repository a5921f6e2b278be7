"""Per-worker bookkeeping of leased requests: which leases this worker holds, which are done.

The scheduler hands out leased requests; the lease middleware and the spider's errback mark
them complete; the book acknowledges completed leases in Redis only after every registered
``before_ack`` hook (the Kafka pipeline's flush) has confirmed that what they produced is
durable. Acks and renewals that fail (Redis briefly away) are kept and retried.
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


def lease_of(request: Request) -> str | None:
    """The lease id a request carries (None for requests not popped from the shared queue)."""
    return request.meta.get(LEASE_META)


class LeaseBook:
    """The leases one worker holds for one crawl."""

    def __init__(self, queue: LeasedQueue) -> None:
        self.queue = queue
        self.held: set[str] = set()
        self.completed: list[str] = []
        self.before_ack: list[Callable[[], None]] = []

    def hold(self, lease_id: str) -> None:
        """A request was popped under ``lease_id``."""
        self.held.add(lease_id)

    def complete(self, request: Request) -> None:
        """The request's work is done (or it was replaced by a retry/redirect in the queue)."""
        lease_id = request.meta.pop(LEASE_META, None)
        if lease_id and lease_id in self.held:
            self.held.discard(lease_id)
            self.completed.append(lease_id)

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
