"""The Redis keys of one crawl. Every key of a crawl starts with ``sluice:crawl:<id>:``."""

from __future__ import annotations

import re
from dataclasses import dataclass

CRAWL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,127}$")


@dataclass(frozen=True)
class CrawlKeys:
    """Names of the Redis structures that make up one crawl."""

    crawl_id: str

    def __post_init__(self) -> None:
        if not CRAWL_ID.fullmatch(self.crawl_id):
            raise ValueError(
                f"crawl id {self.crawl_id!r} must be 1-128 letters, digits, '_', '.', ':' or '-'"
            )

    @property
    def prefix(self) -> str:
        """The common prefix (useful for SCAN/cleanup)."""
        return f"sluice:crawl:{self.crawl_id}"

    @property
    def hosts(self) -> str:
        """ZSET host -> when (ms) the crawl may lease its next request of that host; holds
        exactly the hosts with requests queued."""
        return f"{self.prefix}:hosts"

    @property
    def queue_prefix(self) -> str:
        """Prefix of the per-host request queues (see :meth:`queue_of`)."""
        return f"{self.prefix}:queue:"

    def queue_of(self, host: str) -> str:
        """ZSET of one host's encoded requests waiting to be fetched, by priority, then first
        in first out."""
        return f"{self.queue_prefix}{host}"

    @property
    def queued(self) -> str:
        """Counter of requests waiting over every host."""
        return f"{self.prefix}:queued"

    @property
    def leases(self) -> str:
        """ZSET lease id -> expiry (ms since the epoch) of requests being worked on."""
        return f"{self.prefix}:leases"

    @property
    def leased(self) -> str:
        """HASH lease id -> "<score>|<encoded request>", to put a lapsed lease back."""
        return f"{self.prefix}:leased"

    @property
    def pop_calls(self) -> str:
        """ZSET pop call id -> until when (ms) it is remembered, so the same call retried
        after a lost reply leases nothing more."""
        return f"{self.prefix}:pop_calls"

    @property
    def sequence(self) -> str:
        """Counter giving each queued request its place among requests of equal priority."""
        return f"{self.prefix}:sequence"

    @property
    def leased_pages(self) -> str:
        """Counter of leases handed out: the crawl-wide page budget (``max_pages``) is spent
        against it."""
        return f"{self.prefix}:leased_pages"

    @property
    def failed(self) -> str:
        """HASH url -> JSON {reason, request}: pages that finally failed (the crawl is partial);
        `sluice crawl retry` queues them again."""
        return f"{self.prefix}:failed"

    @property
    def claims(self) -> str:
        """HASH worker slot -> the pool replica running it (:mod:`sluice.crawl.claims`)."""
        return f"{self.prefix}:claims"

    @property
    def bloom(self) -> str:
        """STRING bitmap of the Bloom duplicate filter."""
        return f"{self.prefix}:bloom"

    @property
    def seen(self) -> str:
        """Counter of distinct requests the filter has admitted."""
        return f"{self.prefix}:seen"

    @property
    def meta(self) -> str:
        """HASH describing the crawl (spider, start urls, state, timestamps)."""
        return f"{self.prefix}:meta"

    @property
    def stats(self) -> str:
        """HASH of counters summed over every worker (pages, items, drops by reason...)."""
        return f"{self.prefix}:stats"

    @property
    def workers(self) -> str:
        """ZSET worker id -> last heartbeat (ms)."""
        return f"{self.prefix}:workers"

    def all(self) -> list[str]:
        """Every key of the crawl but the per-host queues (one per member of :attr:`hosts`)."""
        return [
            self.hosts,
            self.queued,
            self.leases,
            self.leased,
            self.pop_calls,
            self.sequence,
            self.leased_pages,
            self.claims,
            self.failed,
            self.bloom,
            self.seen,
            self.meta,
            self.stats,
            self.workers,
        ]
