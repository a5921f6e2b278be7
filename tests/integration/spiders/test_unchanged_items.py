"""A crawl that finds a product unchanged since it was last published sends a seen notice
instead of the item: real pool replicas and Scrapy workers, Redis and Kafka, against a small
site whose prices a test can change."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sluice.crawl import registry, runner
from sluice.crawl.fingerprints import Fingerprints, key_of
from sluice.storage.redis import client
from tests.support.crawling import TopicReader, wait_for
from tests.support.polite_site import PoliteSite, SiteRules
from tests.support.pools import replicas

pytestmark = [pytest.mark.redis, pytest.mark.kafka]


def published(settings, tmp_path, site: PoliteSite) -> dict[str, str]:
    """Crawl the site with one worker; {sku: schema} of what the crawl published."""
    reader = TopicReader(settings)
    server = client(settings.redis_url, decode=False)
    seeded = runner.seed_crawl(settings, "ecommerce", [f"{site.base}/"])
    with replicas(settings, tmp_path, 1):
        registry.dispatch(server, seeded.crawl_id, 1)
        wait_for(lambda: seeded.crawl_id not in registry.dispatched(server), 300, what="the end")
    found = {
        env["item"]["external_id"]: env["schema"]
        for _, env in reader.read("sluice.raw.products", seeded.crawl_id)
    }
    reader.close()
    return found


def test_unchanged_products_go_out_as_seen_notices_and_a_changed_one_whole(
    replica_settings, tmp_path
):
    site = PoliteSite(rules=SiteRules(crawl_delay="0", allowed_rate=0), products=4, linked=4)
    site.start()
    try:
        first = published(replica_settings, tmp_path, site)
        second = published(replica_settings, tmp_path, site)
        site.prices[2] = "99.00"
        third = published(replica_settings, tmp_path, site)
    finally:
        site.stop()
    skus = sorted(site.skus())
    assert (first, second, third) == (
        dict.fromkeys(skus, "product/1"),
        dict.fromkeys(skus, "seen/1"),
        {**dict.fromkeys(skus, "seen/1"), "P-02": "product/1"},
    )


def test_republish_forgets_a_sources_fingerprints(settings, stack):
    server = client(settings.redis_url, decode=False)
    source = "test-republish.localhost"
    Fingerprints(server, 60).remember([(source, "A", "f1"), ("test-kept.localhost", "B", "f2")])
    done = subprocess.run(
        [str(Path(sys.executable).with_name("sluice")), "crawl", "republish", source],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    kept = server.exists(key_of("test-kept.localhost"))
    server.delete(key_of("test-kept.localhost"))
    assert (done.returncode, server.exists(key_of(source)), kept) == (0, 0, 1)
