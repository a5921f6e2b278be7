"""An ended crawl's Redis keys expire, `sluice crawl gc` drops them at once, and a crawl's
duplicate filter is sized for the crawl: Redis does not grow with every crawl ever run."""

from __future__ import annotations

import uuid
from dataclasses import replace
from urllib.parse import urlsplit

import pytest

from sluice.crawl import registry, retention, runner
from sluice.crawl.keys import CrawlKeys
from sluice.crawl.leases import LeasedQueue
from sluice.storage.redis import client
from tests.support.crawling import wait_for

pytestmark = [pytest.mark.redis]


@pytest.fixture
def own_settings(settings, stack):
    """The stack's settings on a Redis database of these tests' own."""
    url = urlsplit(settings.redis_url)._replace(path="/7").geturl()
    server = client(url, decode=False)
    server.flushdb()
    yield replace(settings, redis_url=url)
    server.flushdb()


def small_crawl(settings, expected_pages: int | None = None) -> str:
    """A crawl that seeds, leases and acknowledges a few requests, as workers would."""
    params = {"expected_pages": expected_pages} if expected_pages else {}
    seeded = runner.seed_crawl(
        settings, "ecommerce", [f"http://shop-{uuid.uuid4().hex[:6]}.localhost/"], params
    )
    server = client(settings.redis_url, decode=False)
    keys = CrawlKeys(seeded.crawl_id)
    queue = LeasedQueue(server, keys)
    queue.push_many([(f"page-{n}".encode(), "retention.localhost", 0) for n in range(20)])
    leases = [queue.pop()[0] for _ in range(21)]
    queue.ack([lease.lease_id for lease in leases if lease is not None])
    registry.add_stats(server, keys, {"downloader/response_count": 21})
    registry.dispatch(server, seeded.crawl_id, 1)
    return seeded.crawl_id


def used_memory(server) -> int:
    return int(server.info("memory")["used_memory"])


def test_fifty_ended_crawls_leave_redis_where_it_started(own_settings):
    server = client(own_settings.redis_url, decode=False)
    before = used_memory(server)
    for _ in range(50):
        crawl_id = small_crawl(own_settings)
        registry.conclude(server, crawl_id, retain_seconds=1)
    grown = used_memory(server) - before
    wait_for(lambda: server.dbsize() == 0, 30, what="the crawls' keys to expire")
    after = used_memory(server)
    # Grown while they lived (each holds a Bloom filter), back within 5 MB once they expired.
    assert (grown > 5_000_000, after - before < 5_000_000) == (True, True)


def test_gc_drops_ended_crawls_and_keeps_running_ones(own_settings, sluice_cli):
    server = client(own_settings.redis_url, decode=False)
    ended = small_crawl(own_settings)
    registry.conclude(server, ended)
    server.hset(CrawlKeys(ended).meta, "finished_at", 1)
    running = small_crawl(own_settings)
    result = sluice_cli("crawl", "gc", env={"SLUICE_REDIS_URL": own_settings.redis_url})
    assert result.returncode == 0, result.stderr
    left = set(retention.crawl_ids(server))
    assert left == {running}


def test_a_crawls_duplicate_filter_is_sized_for_its_expected_pages(own_settings):
    crawl_id = small_crawl(own_settings, expected_pages=1_000)
    server = client(own_settings.redis_url, decode=False)
    bitmap = server.strlen(CrawlKeys(crawl_id).bloom)
    # 1,000 requests at 0.01 % take 2.4 KB, not the 24 MB of the ten-million default
    assert bitmap < 3_000
