"""A crawl's record in Redis: what it is, its seeds, and live progress summed over workers."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import redis

from sluice.crawl import codec
from sluice.crawl.bloom import Admission, BloomParams, RedisBloom
from sluice.crawl.keys import CrawlKeys
from sluice.crawl.leases import LeasedQueue, QueueState, budget_spent, host_of, now_ms

#: a worker that has not announced itself for this long is presumed gone
WORKER_STALE_MS = 60_000


@dataclass(frozen=True)
class CrawlStatus:
    """One look at a crawl."""

    crawl_id: str
    spider: str
    queued: int
    in_flight: int
    workers: int
    stats: dict[str, int] = field(default_factory=dict)
    meta: dict[str, str] = field(default_factory=dict)
    #: leases handed out so far (what the page budget is spent against)
    leased_pages: int = 0

    @property
    def done(self) -> bool:
        """Nothing queued and nothing in flight."""
        return self.queued == 0 and self.in_flight == 0

    @property
    def finished(self) -> bool:
        """A worker has seen the crawl done and recorded its end."""
        return "finished_at" in self.meta

    @property
    def page_budget(self) -> int:
        """The crawl-wide ``max_pages`` (0: none)."""
        return page_budget(self.meta)

    @property
    def budget_spent(self) -> bool:
        """The page budget is spent: what is still queued will not be leased."""
        return budget_spent(self.page_budget, self.leased_pages)

    @property
    def over(self) -> bool:
        """Nothing more will be fetched: done, or the page budget spent with nothing in flight."""
        return QueueState(self.queued, self.in_flight, self.budget_spent).over

    @property
    def failure(self) -> str | None:
        """Why the crawl failed, when the pool concluded it could not go on."""
        return self.meta.get("failed_reason")


def page_budget(meta: dict[str, str]) -> int:
    """The ``max_pages`` param in a crawl's record (0: no budget)."""
    params = json.loads(meta.get("params") or "{}")
    return max(0, int(params.get("max_pages") or 0))


def create(
    server: redis.Redis,
    keys: CrawlKeys,
    spider: str,
    start_urls: list[str],
    params: dict[str, Any] | None = None,
    bloom: BloomParams | None = None,
) -> None:
    """Record a new crawl (a crawl id is used once: an existing one is an error), with the size
    of its duplicate filter, which every worker then builds the same way."""
    if server.exists(keys.meta):
        raise ValueError(f"crawl {keys.crawl_id} already exists; pick a new crawl id")
    record: dict[str, Any] = {
        "spider": spider,
        "start_urls": json.dumps(start_urls),
        "params": json.dumps(params or {}),
        "created_at": int(time.time()),
    }
    if bloom is not None:
        record.update(bloom_capacity=bloom.capacity, bloom_error_rate=repr(bloom.error_rate))
    server.hset(keys.meta, mapping=record)


def bloom_params(meta: dict[str, str], default: BloomParams) -> BloomParams:
    """The duplicate filter's size recorded for the crawl, or ``default`` (a crawl started by
    plain `scrapy crawl`, which has no record)."""
    if "bloom_capacity" not in meta:
        return default
    return BloomParams(int(meta["bloom_capacity"]), float(meta["bloom_error_rate"]))


def seed(
    server: redis.Redis,
    keys: CrawlKeys,
    requests: list[dict[str, Any]],
    fingerprints: list[bytes],
    bloom: BloomParams,
) -> int:
    """Queue start requests (as request dicts) through the crawl's duplicate filter.

    ``fingerprints`` are the workers' fingerprints of the same requests, so a page that
    links back to a start URL is not fetched twice. Returns how many were queued.
    """
    filter_ = RedisBloom(server, keys.bloom, keys.seen, bloom)
    admissions = [
        Admission(
            codec.dumps(request),
            host_of(request["url"]),
            int(request.get("priority", 0)),
            fingerprint.hex(),
        )
        for request, fingerprint in zip(requests, fingerprints, strict=True)
    ]
    admitted, _ = filter_.admit_many(keys, admissions)
    return sum(admitted)


def start_urls(server: redis.Redis, keys: CrawlKeys) -> list[str]:
    """The start URLs recorded for a crawl (empty when it was not created through Sluice)."""
    raw = server.hget(keys.meta, "start_urls")
    return json.loads(raw) if raw else []


def add_stats(server: redis.Redis, keys: CrawlKeys, deltas: dict[str, int]) -> None:
    """Add one worker's stat increments to the crawl's totals."""
    if not deltas:
        return
    pipe = server.pipeline(transaction=False)
    for name, delta in deltas.items():
        pipe.hincrby(keys.stats, name, delta)
    pipe.execute()


def status(server: redis.Redis, keys: CrawlKeys) -> CrawlStatus:
    """Queue, in-flight, live workers, summed stats and the crawl's record."""
    pipe = server.pipeline(transaction=False)
    pipe.get(keys.queued)
    pipe.zcard(keys.leases)
    pipe.zcount(keys.workers, now_ms() - WORKER_STALE_MS, "+inf")
    pipe.hgetall(keys.stats)
    pipe.hgetall(keys.meta)
    pipe.get(keys.leased_pages)
    queued, in_flight, workers, stats, meta, leased = pipe.execute()

    def text(value: bytes | str) -> str:
        return value.decode() if isinstance(value, bytes) else value

    meta = {text(k): text(v) for k, v in meta.items()}
    return CrawlStatus(
        crawl_id=keys.crawl_id,
        spider=meta.get("spider", ""),
        queued=int(queued or 0),
        in_flight=int(in_flight),
        workers=int(workers),
        stats={text(k): int(v) for k, v in stats.items()},
        meta=meta,
        leased_pages=int(leased or 0),
    )


#: crawls handed to the worker pool (`sluice worker`), oldest first: crawl id -> dispatch time
DISPATCH = "sluice:crawls:dispatch"
#: how many workers each dispatched crawl wants: crawl id -> count
DISPATCH_WORKERS = "sluice:crawls:dispatch:workers"


def dispatch(server: redis.Redis, crawl_id: str, workers: int) -> None:
    """Hand a seeded crawl to the worker pool, which starts ``workers`` processes for it.

    Dispatching again (a retried task) keeps the crawl's place in line.
    """
    if workers < 1:
        raise ValueError(f"a crawl needs at least one worker, not {workers}")
    pipe = server.pipeline(transaction=True)
    pipe.zadd(DISPATCH, {crawl_id: now_ms()}, nx=True)
    pipe.hset(DISPATCH_WORKERS, crawl_id, workers)
    pipe.execute()


def dispatched(server: redis.Redis) -> dict[str, int]:
    """Crawls handed to the pool and not yet released, oldest first: id -> workers wanted."""
    ids = server.zrange(DISPATCH, 0, -1)
    if not ids:
        return {}
    wanted = server.hmget(DISPATCH_WORKERS, ids)
    return {
        (k.decode() if isinstance(k, bytes) else k): int(w or 1)
        for k, w in zip(ids, wanted, strict=True)
    }


# Take the crawl off the pool's list; only the caller that did so records the failure.
# KEYS: dispatch, dispatch workers, meta. ARGV: crawl id, failure ('' for none), now (s).
_CONCLUDE = """
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HDEL', KEYS[2], ARGV[1])
if ARGV[2] ~= '' and redis.call('EXISTS', KEYS[3]) == 1 then
  redis.call('HSETNX', KEYS[3], 'failed_reason', ARGV[2])
  redis.call('HSETNX', KEYS[3], 'finished_at', ARGV[3])
end
return 1
"""


def retire(server: redis.Redis, crawl_id: str, ttl_seconds: int) -> None:
    """The crawl has ended: give every key of it ``ttl_seconds`` to live (a shorter TTL already
    set stays), so reports can still read it for a while and Redis does not grow."""
    pipe = server.pipeline(transaction=False)
    for key in LeasedQueue(server, CrawlKeys(crawl_id)).every_key():
        # LT: a key without a TTL counts as infinite, so it gets one; a shorter one stays.
        pipe.expire(key, ttl_seconds, lt=True)
    pipe.execute()


def conclude(
    server: redis.Redis,
    crawl_id: str,
    failure: str | None = None,
    retain_seconds: int | None = None,
) -> bool:
    """Take a crawl off the pool's list, with the reason it failed if it did, and retire its
    keys (:func:`retire`) when ``retain_seconds`` is given.

    Atomic: when several pool replicas conclude the same crawl at once, exactly one gets True
    (and only its failure reason is recorded).
    """
    concluded = server.eval(
        _CONCLUDE,
        3,
        DISPATCH,
        DISPATCH_WORKERS,
        CrawlKeys(crawl_id).meta,
        crawl_id,
        failure or "",
        int(time.time()),
    )
    if retain_seconds is not None:
        retire(server, crawl_id, retain_seconds)
    return bool(concluded)


def reopen(server: redis.Redis, crawl_id: str) -> int:
    """Queue the crawl's failed pages again and make the crawl live again (no end recorded, no
    expiry on its keys); how many pages were queued."""
    keys = CrawlKeys(crawl_id)
    queue = LeasedQueue(server, keys)
    queued = queue.requeue_failures()
    if queued:
        pipe = server.pipeline(transaction=False)
        pipe.hdel(keys.meta, "finished_at", "failed_reason")
        for key in queue.every_key():
            pipe.persist(key)
        pipe.execute()
    return queued


def purge_queue(server: redis.Redis, keys: CrawlKeys) -> int:
    """Drop what is still queued (a crawl stopped at its page limit); returns how many."""
    return LeasedQueue(server, keys).purge()
