"""Prometheus counters of a Scrapy worker, taken from the crawl's own stats.

Scrapy already counts responses by status, download exceptions, scraped items, and our
pipelines count dropped items by reason and failed Kafka deliveries. Every
``CRAWL_STATS_INTERVAL`` seconds (and at close) this extension adds what those stats gained to
prometheus-client counters in multiprocess mode: the worker pool that started this worker set
``PROMETHEUS_MULTIPROC_DIR`` and serves the sum over all its workers.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass

from prometheus_client import Counter
from scrapy import signals
from scrapy.exceptions import NotConfigured
from twisted.internet import task

STATUS_PREFIX = "downloader/response_status_count/"
EXCEPTION_PREFIX = "downloader/exception_type_count/"
SCRAPED = "item_scraped_count"
DROPPED_PREFIX = "drop_item/"
DELIVERY_FAILED = "kafka/delivery_failed"


@dataclass(frozen=True)
class SpiderSeries:
    """The counters a worker adds to."""

    requests: Counter
    scraped: Counter
    dropped: Counter
    delivery_failures: Counter


@functools.cache
def spider_series() -> SpiderSeries:
    """The worker's counters, registered once per process."""
    return SpiderSeries(
        requests=Counter(
            "sluice_spider_requests_total",
            "Finished requests by spider and outcome: the HTTP status or the exception's name.",
            ["spider", "status"],
        ),
        scraped=Counter(
            "sluice_spider_items_scraped_total", "Items that passed every pipeline.", ["spider"]
        ),
        dropped=Counter(
            "sluice_spider_items_dropped_total",
            "Items a pipeline dropped, by reason.",
            ["spider", "reason"],
        ),
        delivery_failures=Counter(
            "sluice_spider_delivery_failures_total",
            "Items Kafka did not acknowledge.",
            ["spider"],
        ),
    )


def increments(spider: str, deltas: dict[str, int]) -> list[tuple[str, tuple[str, ...], int]]:
    """Which counter (by field name of :class:`SpiderSeries`), labels and amount each stat
    delta becomes; stats that are not metrics are left out."""
    out: list[tuple[str, tuple[str, ...], int]] = []
    for name, delta in deltas.items():
        if name.startswith(STATUS_PREFIX):
            out.append(("requests", (spider, name.removeprefix(STATUS_PREFIX)), delta))
        elif name.startswith(EXCEPTION_PREFIX):
            exception = name.removeprefix(EXCEPTION_PREFIX).rsplit(".", 1)[-1]
            out.append(("requests", (spider, exception), delta))
        elif name == SCRAPED:
            out.append(("scraped", (spider,), delta))
        elif name.startswith(DROPPED_PREFIX):
            # drop_item/<spider>/<reason>
            reason = name.removeprefix(DROPPED_PREFIX).split("/", 1)[-1]
            out.append(("dropped", (spider, reason), delta))
        elif name == DELIVERY_FAILED:
            out.append(("delivery_failures", (spider,), delta))
    return out


class PrometheusStats:
    """Adds stat increments to the worker's Prometheus counters on an interval and at close."""

    def __init__(self, crawler, interval: float) -> None:
        self.crawler = crawler
        self.interval = interval
        self.added: dict[str, int] = {}
        self.loop: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler):
        """On only under a worker pool that collects the counters (PROMETHEUS_MULTIPROC_DIR)."""
        if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            raise NotConfigured("no PROMETHEUS_MULTIPROC_DIR: nothing would serve the metrics")
        ext = cls(crawler, crawler.settings.getfloat("CRAWL_STATS_INTERVAL", 1.0))
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider) -> None:
        """Start adding."""
        self.spider = spider.name
        self.loop = task.LoopingCall(self.add)
        self.loop.start(self.interval, now=False)

    def spider_closed(self, spider, reason: str) -> None:
        """Add the last increments."""
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        self.add()

    def add(self) -> None:
        """Add what the stats gained since the last call."""
        deltas: dict[str, int] = {}
        for name, value in self.crawler.stats.get_stats().items():
            if isinstance(value, int) and not isinstance(value, bool):
                delta = value - self.added.get(name, 0)
                if delta > 0:
                    deltas[name] = delta
        series = spider_series()
        for field_name, labels, amount in increments(self.spider, deltas):
            getattr(series, field_name).labels(*labels).inc(amount)
        for name, delta in deltas.items():
            self.added[name] = self.added.get(name, 0) + delta
