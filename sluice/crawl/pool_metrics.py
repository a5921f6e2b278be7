"""Prometheus series of the spider worker pool: its own gauges, plus the summed counters its
Scrapy workers write in multiprocess mode (see ``spiders/metrics.py``)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Gauge

from sluice.crawl.pool import WorkerPool


class PoolMetrics:
    """Queue length per spider and running workers, refreshed after each pool step."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.queue = Gauge(
            "sluice_spider_queue_length",
            "Requests waiting in the Redis queues of the pool's active crawls, by spider.",
            ["spider"],
            registry=registry,
        )
        self.running = Gauge(
            "sluice_spider_workers_running", "Scrapy workers the pool runs now.", registry=registry
        )
        self.seen: set[str] = set()

    def refresh(self, pool: WorkerPool) -> None:
        """Read the queue lengths from Redis and the worker count from the pool."""
        lengths = pool.queue_lengths()
        # A spider whose crawls ended reads 0 rather than its last length.
        for spider in self.seen | set(lengths):
            self.queue.labels(spider).set(lengths.get(spider, 0))
        self.seen |= set(lengths)
        self.running.set(pool.busy())
