"""Sums each worker's crawl stats into the crawl's record in Redis, for live progress.

Every ``CRAWL_STATS_INTERVAL`` seconds (and when the spider closes) the worker adds what its
counters gained since the last push to ``sluice:crawl:<id>:stats``; `sluice crawl` and the
Airflow sensors read the totals there.
"""

from __future__ import annotations

import logging

import redis
from scrapy import signals
from scrapy.exceptions import NotConfigured
from twisted.internet import task

from sluice.crawl import registry
from sluice.crawl.keys import CrawlKeys
from sluice.storage.redis import client

log = logging.getLogger(__name__)

#: counters summed across workers (prefix match); others stay local to the worker
SHARED_PREFIXES = (
    "downloader/response_count",
    "downloader/response_bytes",
    "downloader/response_status_count/",
    "item_scraped_count",
    "item_dropped_count",
    "item_valid/",
    "item_unchanged/",
    "drop_item/",
    "kafka/",
    "error/",
    "filtered/",
    "dupefilter/filtered",
    "retry/count",
    "scheduler/lease_lapsed",
    "scheduler/unqueued",
    "log_count/ERROR",
)


class CrawlStatsSync:
    """Pushes stat increments to Redis on an interval and at close."""

    def __init__(self, crawler, url: str, interval: float) -> None:
        self.crawler = crawler
        self.server = client(url, decode=False, retries=3)
        self.interval = interval
        self.pushed: dict[str, int] = {}
        self.loop: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler):
        """Enabled with ``CRAWL_STATS_SYNC`` (default on) and a ``REDIS_URL``."""
        url = crawler.settings.get("REDIS_URL")
        if not url or not crawler.settings.getbool("CRAWL_STATS_SYNC", True):
            raise NotConfigured("crawl stats sync is off")
        ext = cls(crawler, url, crawler.settings.getfloat("CRAWL_STATS_INTERVAL", 1.0))
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider) -> None:
        """Start pushing."""
        self.keys = CrawlKeys(spider.crawl_id)
        self.loop = task.LoopingCall(self.push)
        self.loop.start(self.interval, now=False)

    def spider_closed(self, spider, reason: str) -> None:
        """Push the last increments and note how this worker ended."""
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        self.crawler.stats.inc_value(f"worker_finish/{reason}")
        self.push(extra_prefixes=("worker_finish/",))

    def deltas(self, extra_prefixes: tuple[str, ...] = ()) -> dict[str, int]:
        """What the shared counters gained since the last push."""
        prefixes = SHARED_PREFIXES + extra_prefixes
        out: dict[str, int] = {}
        for name, value in self.crawler.stats.get_stats().items():
            if isinstance(value, int) and not isinstance(value, bool) and name.startswith(prefixes):
                delta = value - self.pushed.get(name, 0)
                if delta:
                    out[name] = delta
        return out

    def push(self, extra_prefixes: tuple[str, ...] = ()) -> None:
        """Add the increments to the crawl's totals (kept for the next try if Redis is away)."""
        deltas = self.deltas(extra_prefixes)
        try:
            registry.add_stats(self.server, self.keys, deltas)
        except redis.RedisError as exc:
            log.warning("could not push crawl stats (%s); will retry", exc)
            return
        for name, delta in deltas.items():
            self.pushed[name] = self.pushed.get(name, 0) + delta
