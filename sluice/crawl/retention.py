"""How long a crawl's Redis keys live once the crawl has ended.

A crawl's keys (queue, leases, Bloom filter, stats, record) are what `sluice report` and the
Airflow finalize task read after the crawl, so they are not deleted when it ends: they get a
time to live (``SLUICE_CRAWL_KEY_TTL``, 7 days by default) and Redis drops them after it. A
daily schedule therefore holds about a week of crawls, not every crawl ever run.
`sluice crawl gc` drops the keys of ended crawls at once. (The TTL itself is set where a crawl
ends: :func:`sluice.crawl.registry.retire`.)
"""

from __future__ import annotations

from collections.abc import Iterator

import redis

from sluice.crawl import registry
from sluice.crawl.keys import CrawlKeys
from sluice.crawl.leases import LeasedQueue

META_PATTERN = "sluice:crawl:*:meta"


def crawl_ids(server: redis.Redis) -> Iterator[str]:
    """Every crawl with a record in Redis."""
    for key in server.scan_iter(match=META_PATTERN, count=500):
        name = key.decode() if isinstance(key, bytes) else key
        yield name[len("sluice:crawl:") : -len(":meta")]


def ended(server: redis.Redis, crawl_id: str, dispatched: set[str]) -> bool:
    """The crawl is over for good: not with the worker pool, and either its end was recorded or
    its keys were already retired."""
    if crawl_id in dispatched:
        return False
    meta = CrawlKeys(crawl_id).meta
    return bool(server.hexists(meta, "finished_at")) or server.ttl(meta) > 0


def collect(server: redis.Redis) -> list[str]:
    """Drop every key of every ended crawl now; the crawl ids dropped."""
    dispatched = set(registry.dispatched(server))
    dropped = []
    for crawl_id in list(crawl_ids(server)):
        if ended(server, crawl_id, dispatched):
            server.delete(*LeasedQueue(server, CrawlKeys(crawl_id)).every_key())
            dropped.append(crawl_id)
    return dropped
