"""scrapy-redis's scheduler, made crash-safe and able to tell when a crawl is over.

Every worker of a crawl shares one queue in Redis (``sluice:crawl:<id>:queue``). Pops are
leases (:mod:`sluice.crawl.leases`): a worker killed mid-crawl loses nothing, because its
leases lapse and go back to the queue. The crawl ends when the queue is empty and no lease
is out on any worker — not after a fixed idle time. A brief Redis outage is ridden out:
commands retry with backoff, and requests that still cannot be queued wait in memory.

Round trips are batched: the requests one response yields are admitted together, in one
round trip, as soon as the engine has handed them over (:mod:`spiders.dupefilter`), and a pop
leases up to ``SLUICE_LEASE_BATCH`` requests at once, kept here until the engine asks for
them. Leases are acknowledged only after both the admissions their responses made and the
items they produced are durable (:class:`spiders.leasing.LeaseBook`).

Settings: ``REDIS_URL``, ``SLUICE_LEASE_TTL`` (seconds, default 30), ``SLUICE_REDIS_RETRIES``
(default 20, about 30 s), ``SLUICE_POLL_INTERVAL`` (how often an idle worker looks for work,
default 0.5 s), ``SLUICE_LEASE_BATCH`` (requests leased per round trip, default 8),
``DUPEFILTER_CAPACITY`` and ``DUPEFILTER_ERROR_RATE``.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections import deque

import redis
from scrapy import Request, Spider, signals
from scrapy.exceptions import DontCloseSpider, NotConfigured
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.request import request_from_dict
from scrapy_redis.scheduler import Scheduler
from twisted.internet import reactor, task

from sluice.crawl import codec, registry
from sluice.crawl.bloom import BloomParams
from sluice.crawl.keys import CrawlKeys
from sluice.crawl.leases import Lease, LeasedQueue, now_ms
from sluice.crawl.politeness import interval_ms
from sluice.storage.redis import client
from spiders.dupefilter import BloomDupeFilter
from spiders.leasing import ERRBACK_META, LEASE_META, LeaseBook

log = logging.getLogger(__name__)

ACK_INTERVAL = 0.5
#: meta of a request leased by offer_work and handed to the engine (see there)
OFFERED_META = "_sluice_offered"
#: meta set by middlewares at download time that is neither JSON nor worth queueing
RUNTIME_META = ("playwright", "playwright_page_methods", "playwright_page", "download_slot")


class LeasedScheduler(Scheduler):
    """A scrapy-redis scheduler over a leased, crawl-scoped queue; see the module docstring."""

    def __init__(self, server: redis.Redis, crawler, lease_ttl: float, bloom: BloomParams):
        super().__init__(server, persist=True)
        self.crawler = crawler
        self.stats = crawler.stats
        self.lease_ttl = lease_ttl
        self.bloom_params = bloom
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}"
        #: leased requests handed to the engine by offer_work, on their way to next_request
        self.offered: deque[Request] = deque()
        #: leases taken by a pop of several, waiting for the engine to ask for them
        self.prefetched: deque[Lease] = deque()
        self.lease_batch = 8
        self.closing = False
        self.poll_interval = 0.5
        self._loops: list[task.LoopingCall] = []
        self._flush_call = None

    @classmethod
    def from_crawler(cls, crawler):
        """Build from the crawler's settings; fail at once when Redis cannot be reached."""
        settings = crawler.settings
        url = settings.get("REDIS_URL")
        if not url:
            raise NotConfigured("REDIS_URL is not set")
        server = client(url, decode=False, retries=settings.getint("SLUICE_REDIS_RETRIES", 20))
        try:
            server.ping()
        except redis.RedisError as exc:
            raise redis.ConnectionError(
                f"the crawl queue's Redis at {url} does not answer ({exc}); "
                "start it with `sluice stack up redis`"
            ) from exc
        bloom = BloomParams(
            capacity=settings.getint("DUPEFILTER_CAPACITY", 10_000_000),
            error_rate=settings.getfloat("DUPEFILTER_ERROR_RATE", 0.0001),
        )
        scheduler = cls(server, crawler, settings.getfloat("SLUICE_LEASE_TTL", 30.0), bloom)
        scheduler.poll_interval = settings.getfloat("SLUICE_POLL_INTERVAL", 0.5)
        scheduler.lease_batch = max(1, settings.getint("SLUICE_LEASE_BATCH", 8))
        crawler.signals.connect(scheduler.spider_idle, signal=signals.spider_idle)
        return scheduler

    # -- lifecycle -----------------------------------------------------------------------------
    def open(self, spider: Spider) -> None:
        """Attach to the crawl named by the spider's ``crawl_id``."""
        self.spider = spider
        crawl_id = getattr(spider, "crawl_id", None)
        if not crawl_id:
            raise NotConfigured(f"spider {spider.name} has no crawl_id (pass -a crawl_id=...)")
        if not hasattr(spider, "errback_lease"):
            raise NotConfigured(
                f"spider {spider.name} must derive from spiders.spiders.base.SluiceSpider"
            )
        self.keys = CrawlKeys(crawl_id)
        meta = registry.status(self.server, self.keys).meta
        budget = registry.page_budget(meta)
        settings = self.crawler.settings
        self.queue = LeasedQueue(
            self.server,
            self.keys,
            self.lease_ttl,
            page_budget=budget,
            default_interval_ms=interval_ms(settings.getfloat("DEFAULT_HOST_RATE", 4.0)),
            lookahead_ms=round(settings.getfloat("SLUICE_LEASE_LOOKAHEAD", 1.0) * 1000),
        )
        self.df = BloomDupeFilter(
            self.server,
            self.keys,
            registry.bloom_params(meta, self.bloom_params),
            self.crawler.request_fingerprinter,
            self.stats,
        )
        self.book = LeaseBook(self.queue, self.encode)
        # First among the hooks: a lease is acknowledged only once the requests its response
        # yielded are queued (else a worker killed in between would lose them).
        self.book.before_ack.append(self.flush_admissions)
        spider.lease_book = self.book
        state = self.queue.state()
        if state.queued or state.in_flight:
            log.info(
                "joining crawl %s: %d queued, %d in flight", crawl_id, state.queued, state.in_flight
            )
        self.heartbeat()
        self._start_loop(self.tick, ACK_INTERVAL)
        self._start_loop(self.offer_work, self.poll_interval)
        self._start_loop(self.heartbeat, max(1.0, self.lease_ttl / 3))

    def _start_loop(self, function, interval: float) -> None:
        loop = task.LoopingCall(function)
        loop.start(interval, now=False).addErrback(
            lambda failure: log.error("crawl loop %s stopped: %s", function.__name__, failure)
        )
        self._loops.append(loop)

    def close(self, reason: str) -> None:
        """Acknowledge finished work, give unfinished leases back, leave the queue to others."""
        for loop in self._loops:
            if loop.running:
                loop.stop()
        if self._flush_call is not None and self._flush_call.active():
            self._flush_call.cancel()
        try:
            self.flush_admissions()
            self.book.flush()
        except Exception:
            log.exception("crawl %s: could not acknowledge the last leases", self.keys.crawl_id)
        self.prefetched.clear()
        self.book.release_held()
        self.df.record_size()
        try:
            self.server.zrem(self.keys.workers, self.worker_id)
        except redis.RedisError:
            log.warning("could not deregister worker %s", self.worker_id)

    # -- queueing ------------------------------------------------------------------------------
    def enqueue_request(self, request: Request) -> bool:
        """Stage the request for the next admission round trip (duplicates this worker already
        knows of are dropped at once); the batch is admitted as soon as the engine is done
        handing over what the current response yielded, and waits in memory while Redis is
        away."""
        if request.meta.pop(OFFERED_META, False):
            # Already leased by :meth:`offer_work`: handed straight back to the engine.
            self.offered.append(request)
            return True
        # A request still carrying a lease is a retry or redirect of a leased request: once it
        # is queued, the original's lease is done. Completing it now is safe: the lease book
        # acknowledges nothing before the staged batch is queued (see open).
        superseded = request.meta.pop(LEASE_META, None)
        try:
            staged = self.df.stage(request, self.encode, self.spider)
        except Exception:
            # Never lose a request quietly: count it, so the crawl's summary reports it. The
            # lease it would have replaced stays open: it lapses and the page is fetched again.
            self.stats.inc_value("scheduler/unqueued")
            log.exception("could not queue %s", request.url)
            return False
        self._complete_lease(superseded)
        if staged and (self._flush_call is None or not self._flush_call.active()):
            self._flush_call = reactor.callLater(0, self._flush_soon)
        return staged

    def _flush_soon(self) -> None:
        try:
            self.flush_admissions()
        except redis.RedisError as exc:
            log.warning(
                "Redis unavailable (%s); holding %d requests in memory", exc, len(self.df.staged)
            )

    def flush_admissions(self) -> None:
        """Admit the staged requests in one round trip (a Redis error leaves them staged)."""
        queued = self.df.flush(self.spider)
        if queued:
            self.stats.inc_value("scheduler/enqueued/redis", len(queued))

    def _complete_lease(self, lease_id: str | None) -> None:
        if lease_id:
            self.book.complete(Request("data:,", meta={LEASE_META: lease_id}))

    def encode(self, request: Request) -> bytes:
        """The queued form of a request: its dict without lease bookkeeping, as JSON."""
        data = request.to_dict(spider=self.spider)
        meta = dict(data.get("meta") or {})
        meta.pop(LEASE_META, None)
        for key in RUNTIME_META:
            meta.pop(key, None)
        own_errback = meta.pop(ERRBACK_META, None)
        if data.get("errback") == "errback_lease":
            # A retry of a leased request: store the request's own errback again.
            data["errback"] = own_errback
        data["meta"] = meta
        return codec.dumps(data)

    def next_request(self) -> Request | None:
        """Lease the next request of the crawl (None when the queue is empty or Redis away)."""
        if self.offered:
            return self.offered.popleft()
        if not self.prefetched and not self._lease_more():
            return None
        lease = self.prefetched.popleft()
        request = request_from_dict(codec.loads(lease.data), spider=self.spider)
        # Failures must come back to the lease book, so the errback is the spider's lease
        # errback, which then calls the request's own errback by name.
        request.meta[ERRBACK_META] = getattr(request.errback, "__name__", None)
        request.errback = self.spider.errback_lease
        request.meta[LEASE_META] = lease.lease_id
        self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def _lease_more(self) -> bool:
        """Lease up to ``lease_batch`` requests in one round trip; True when any came."""
        try:
            # What this worker found goes into the queue before it leases more.
            self.flush_admissions()
            leases, requeued, _ = self.queue.pop_many(self.lease_batch)
        except redis.RedisError as exc:
            log.warning("Redis unavailable (%s); will ask again", exc)
            return False
        if requeued:
            self.stats.inc_value("scheduler/lease_lapsed", requeued)
            log.info("requeued %d requests whose worker stopped renewing them", requeued)
        for lease in leases:
            # Held from now on: renewed by the heartbeat, given back on a graceful stop.
            self.book.hold(lease.lease_id)
        self.prefetched.extend(leases)
        return bool(leases)

    def has_pending_requests(self) -> bool:
        """True while this worker or the shared queue has requests waiting."""
        if self.df.staged or self.prefetched:
            return True
        try:
            state = self.queue.state()
        except redis.RedisError:
            return False
        return state.queued > 0 and not state.budget_spent

    def __len__(self) -> int:
        return self.queue.state().queued + len(self.prefetched) + len(self.df.staged)

    # -- periodic work -------------------------------------------------------------------------
    def offer_work(self) -> None:
        """Hand the engine a leased request when it has room and is waiting for work, and close
        the spider as soon as the whole crawl is over.

        Scrapy's engine asks the scheduler for requests when a download ends, else only every
        5 s; with a shared queue new work appears any moment (another worker queued links, a
        site's turn came). Giving the engine a request through its public ``crawl`` makes it
        start sending again at once.
        """
        engine = self.crawler.engine
        if self.closing or engine is None or engine.spider is None:
            return
        if engine.spider_is_idle() and self.crawl_over():
            # The engine would see this only at its next 5 s heartbeat.
            self.closing = True
            deferred_from_coro(engine.close_spider_async(reason="finished"))
            return
        if self.offered or engine.needs_backout():
            return
        request = self.next_request()
        if request is not None:
            request.meta[OFFERED_META] = True
            engine.crawl(request)

    def tick(self) -> None:
        """Acknowledge completed leases whose output is durable."""
        try:
            self.flush_admissions()
            self.book.flush()
        except redis.RedisError as exc:
            log.warning(
                "Redis unavailable (%s); holding %d requests in memory", exc, len(self.df.staged)
            )

    def heartbeat(self) -> None:
        """Renew this worker's leases and announce the worker."""
        self.book.renew()
        self.df.record_size()
        try:
            self.server.zadd(self.keys.workers, {self.worker_id: now_ms()})
        except redis.RedisError as exc:
            log.warning("could not announce worker %s (%s)", self.worker_id, exc)

    # -- the end of a crawl ----------------------------------------------------------------------
    def spider_idle(self, spider: Spider) -> None:
        """Close only when the whole crawl is done; until then keep waiting for work."""
        try:
            self.flush_admissions()
            self.book.flush()
        except redis.RedisError as exc:
            log.warning("Redis unavailable while idle (%s); waiting", exc)
            raise DontCloseSpider from exc
        if not self.crawl_over():
            raise DontCloseSpider

    def crawl_over(self) -> bool:
        """True, and the end recorded, when the whole crawl is over and this worker holds
        nothing: nothing queued that may still be leased, nothing in flight anywhere."""
        try:
            self.flush_admissions()
            state = self.queue.state()
        except redis.RedisError as exc:
            log.warning("Redis unavailable while idle (%s); waiting", exc)
            return False
        if self.df.staged or self.prefetched or self.book.outstanding or not state.over:
            return False
        try:
            self.server.hsetnx(self.keys.meta, "finished_at", int(time.time()))
        except redis.RedisError:
            log.warning("could not record the end of crawl %s", self.keys.crawl_id)
        log.info(
            "crawl %s is over: %s and nothing is in flight",
            self.keys.crawl_id,
            "its page budget is spent" if state.budget_spent else "the queue is empty",
        )
        return True
