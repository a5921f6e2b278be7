"""The worker pool's gauges: queue length by spider, falling to 0 once a spider's crawls end."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from sluice.crawl.pool_metrics import PoolMetrics


class PoolAt:
    """A pool seen at one moment: its queue lengths and busy workers (pure logic under test)."""

    def __init__(self, lengths: dict[str, int], busy: int) -> None:
        self.lengths, self.running = lengths, busy

    def queue_lengths(self) -> dict[str, int]:
        return self.lengths

    def busy(self) -> int:
        return self.running


def test_queue_lengths_and_workers_and_ended_spiders_read_zero():
    registry = CollectorRegistry()
    metrics = PoolMetrics(registry)
    metrics.refresh(PoolAt({"ecommerce": 120, "finance": 8}, busy=3))
    queue = "sluice_spider_queue_length"
    assert registry.get_sample_value(queue, {"spider": "ecommerce"}) == 120
    assert registry.get_sample_value("sluice_spider_workers_running") == 3
    metrics.refresh(PoolAt({"finance": 2}, busy=1))
    assert registry.get_sample_value(queue, {"spider": "ecommerce"}) == 0
    assert registry.get_sample_value(queue, {"spider": "finance"}) == 2
    assert registry.get_sample_value("sluice_spider_workers_running") == 1
