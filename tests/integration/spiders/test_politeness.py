"""A site's rules bind the whole crawl: real pool replicas and Scrapy workers against small
sites that log every request and enforce their rate with 429."""

from __future__ import annotations

import pytest

from sluice.crawl import registry, runner
from sluice.crawl.keys import CrawlKeys
from sluice.storage.redis import client
from tests.support.crawling import TopicReader, wait_for
from tests.support.polite_site import PoliteSite, SiteRules
from tests.support.pools import replicas

pytestmark = [pytest.mark.redis, pytest.mark.kafka]


@pytest.fixture
def sites():
    started: list[PoliteSite] = []

    def start(**options) -> PoliteSite:
        site = PoliteSite(**options).start()
        started.append(site)
        return site

    yield start
    for site in started:
        site.stop()


def crawl(settings, tmp_path, start_urls: list[str], workers: int, pools: int) -> tuple:
    """Crawl ``start_urls`` with ``workers`` workers on ``pools`` replicas; (status, skus)."""
    reader = TopicReader(settings)
    server = client(settings.redis_url, decode=False)
    seeded = runner.seed_crawl(settings, "ecommerce", start_urls)
    with replicas(settings, tmp_path, pools):
        registry.dispatch(server, seeded.crawl_id, workers)
        wait_for(lambda: seeded.crawl_id not in registry.dispatched(server), 300, what="the end")
    status = registry.status(server, CrawlKeys(seeded.crawl_id))
    skus = {
        env["item"]["external_id"] for _, env in reader.read("sluice.raw.products", seeded.crawl_id)
    }
    reader.close()
    return status, skus


def test_three_workers_on_two_replicas_keep_to_the_sites_crawl_delay(
    replica_settings, sites, tmp_path
):
    site = sites(rules=SiteRules(crawl_delay="0.25", allowed_rate=4))
    _, skus = crawl(replica_settings, tmp_path, [f"{site.base}/"], workers=3, pools=2)
    # 4 requests/s, one more tolerated for jitter; the site never had to say 429.
    assert (site.busiest_second() <= 5, site.throttled(), skus == site.skus()) == (
        True,
        [],
        True,
    )


def test_a_429_with_retry_after_pauses_the_site_for_every_worker(replica_settings, sites, tmp_path):
    # No Crawl-delay: the default 4 requests/s, so pages are still waiting when the 429 comes.
    site = sites(rules=SiteRules(crawl_delay=None, allowed_rate=0, retry_after="2",
                                 throttle_request=6))  # fmt: skip
    _, skus = crawl(replica_settings, tmp_path, [f"{site.base}/"], workers=3, pools=2)
    throttled = site.throttled()[0].at
    # A request already on the wire when the 429 left may arrive just after it.
    during_pause = [h for h in site.hits if throttled + 0.2 < h.at < throttled + 2.0]
    assert (during_pause, skus == site.skus()) == ([], True)


def test_a_slow_site_does_not_hold_up_a_fast_one_in_the_same_crawl(
    replica_settings, sites, tmp_path
):
    # One request every two seconds; two in one second are tolerated for jitter: a request
    # sent on its turn can arrive soon after one sent late. (With one a second, two requests
    # late by a second or more on a machine loaded by the whole suite put three in a second.)
    slow = sites(rules=SiteRules(crawl_delay="2", allowed_rate=1), products=5, linked=5)
    fast = sites(rules=SiteRules(crawl_delay="0", allowed_rate=0), products=60, linked=60)
    crawl(replica_settings, tmp_path, [f"{slow.base}/", f"{fast.base}/"], workers=2, pools=1)
    fast_done = max(h.at for h in fast.hits)
    slow_fourth = sorted(h.at for h in slow.hits)[3]
    # The fast site is crawled out before the slow one has had four requests (six seconds),
    # and the slow one still gets no more than its budget.
    assert (fast_done < slow_fourth, slow.busiest_second() <= 2, slow.throttled()) == (
        True,
        True,
        [],
    )
