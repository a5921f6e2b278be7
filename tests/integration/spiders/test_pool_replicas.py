"""Several `sluice worker` replicas (real processes, real Scrapy workers) on one crawl: never
more Scrapy processes than the crawl wants, and the full catalogue stored even when a replica is
killed or stopped mid-crawl.

The replicas use a Redis database of their own, so the platform's pool (when it runs) does not
join in; everything else (Kafka, the demo shop) is shared.
"""

from __future__ import annotations

import signal

import pytest

from sluice.crawl import registry, runner
from sluice.crawl.keys import CrawlKeys
from sluice.storage.redis import client
from tests.support.crawling import DEMO_DAY, TopicReader, wait_for
from tests.support.pools import ProcessSampler, replicas

pytestmark = [pytest.mark.redis, pytest.mark.kafka]

WANTED = 4
REPLICAS = 3


@pytest.mark.parametrize("fault", ["none", "sigkill", "sigterm"])
def test_replicas_run_the_wanted_workers_and_store_the_whole_shop(
    replica_settings, demo, catalog, tmp_path, fault
):
    demo.reset()
    reader = TopicReader(replica_settings)
    server = client(replica_settings.redis_url, decode=False)
    seeded = runner.seed_crawl(replica_settings, "ecommerce", [f"{demo.base}/shop/"])
    keys = CrawlKeys(seeded.crawl_id)
    sampler = ProcessSampler(seeded.crawl_id)
    sampler.start()
    with replicas(replica_settings, tmp_path, REPLICAS) as started:
        registry.dispatch(server, seeded.crawl_id, WANTED)
        if fault != "none":
            wait_for(
                lambda: (
                    registry.status(server, keys).stats.get("downloader/response_count", 0) >= 40
                ),
                180,
                what="40 pages",
            )
            started[0].send_signal(signal.SIGKILL if fault == "sigkill" else signal.SIGTERM)
        wait_for(
            lambda: seeded.crawl_id not in registry.dispatched(server), 400, what="the crawl's end"
        )
        status = registry.status(server, keys)
        published = {
            env["item"]["external_id"]
            for _, env in reader.read("sluice.raw.products", keys.crawl_id)
        }
        expected = set(catalog.expected_public_products(DEMO_DAY, base_url=demo.base))
        assert (sampler.most <= WANTED, status.failure, published) == (True, None, expected)
    sampler.stopped.set()
    reader.close()
    server.delete(*keys.all())


def test_max_pages_is_one_budget_for_the_whole_crawl(replica_settings, demo, tmp_path):
    server = client(replica_settings.redis_url, decode=False)
    seeded = runner.seed_crawl(
        replica_settings, "ecommerce", [f"{demo.base}/shop/"], {"max_pages": 100}
    )
    with replicas(replica_settings, tmp_path, REPLICAS):
        registry.dispatch(server, seeded.crawl_id, WANTED)
        wait_for(
            lambda: seeded.crawl_id not in registry.dispatched(server), 400, what="the crawl's end"
        )
    pages = registry.status(server, CrawlKeys(seeded.crawl_id)).stats["downloader/response_count"]
    # Each worker also fetches robots.txt once, outside the budget.
    assert abs(pages - 100) <= WANTED, pages
