"""Several `sluice worker` replicas (real processes, real Scrapy workers) on one crawl: never
more Scrapy processes than the crawl wants, and the full catalogue stored even when a replica is
killed or stopped mid-crawl.

The replicas use a Redis database of their own, so the platform's pool (when it runs) does not
join in; everything else (Kafka, the demo shop) is shared.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import psutil
import pytest

from sluice.crawl import registry, runner
from sluice.crawl.keys import CrawlKeys
from sluice.storage.redis import client
from tests.support.crawling import DEMO_DAY, TopicReader, wait_for

pytestmark = [pytest.mark.redis, pytest.mark.kafka]

WANTED = 4
REPLICAS = 3


class ProcessSampler(threading.Thread):
    """Counts the crawl's Scrapy processes every 0.5 s; keeps the largest count seen."""

    def __init__(self, crawl_id: str) -> None:
        super().__init__(daemon=True)
        self.marker = f"crawl_id={crawl_id}"
        self.most = 0
        self.stopped = threading.Event()

    def count(self) -> int:
        found = 0
        for process in psutil.process_iter(["cmdline"]):
            line = process.info["cmdline"] or []
            if "scrapy" in line and self.marker in line:
                found += 1
        return found

    def run(self) -> None:
        while not self.stopped.is_set():
            self.most = max(self.most, self.count())
            self.stopped.wait(0.5)


@pytest.fixture
def own_settings(settings, stack):
    """The stack's settings on a Redis database of these tests' own."""
    url = urlsplit(settings.redis_url)._replace(path="/8").geturl()
    yield replace(settings, redis_url=url)
    server = client(url, decode=False)
    server.delete(registry.DISPATCH, registry.DISPATCH_WORKERS)


def start_replica(settings, log: Path) -> subprocess.Popen:
    env = {**os.environ, "SLUICE_REDIS_URL": settings.redis_url, "SLUICE_METRICS_PORT": "0",
           "SLUICE_POOL_CLAIM_TTL": "5"}  # fmt: skip
    return subprocess.Popen(
        [str(Path(sys.executable).with_name("sluice")), "worker", "--slots", str(WANTED),
         "--poll", "0.5"],
        env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip


@pytest.mark.parametrize("fault", ["none", "sigkill", "sigterm"])
def test_replicas_run_the_wanted_workers_and_store_the_whole_shop(
    own_settings, demo, catalog, tmp_path, fault
):
    demo.reset()
    reader = TopicReader(own_settings)
    server = client(own_settings.redis_url, decode=False)
    seeded = runner.seed_crawl(own_settings, "ecommerce", [f"{demo.base}/shop/"])
    keys = CrawlKeys(seeded.crawl_id)
    replicas = [start_replica(own_settings, tmp_path / f"pool-{n}.log") for n in range(REPLICAS)]
    sampler = ProcessSampler(seeded.crawl_id)
    sampler.start()
    try:
        registry.dispatch(server, seeded.crawl_id, WANTED)
        if fault != "none":
            wait_for(
                lambda: (
                    registry.status(server, keys).stats.get("downloader/response_count", 0) >= 40
                ),
                180,
                what="40 pages",
            )
            replicas[0].send_signal(signal.SIGKILL if fault == "sigkill" else signal.SIGTERM)
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
    finally:
        sampler.stopped.set()
        for replica in replicas:
            replica.send_signal(signal.SIGTERM)
        for replica in replicas:
            replica.wait(60)
        reader.close()
        server.delete(*keys.all())
