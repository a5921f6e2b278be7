"""The ecommerce spider finds products through the sitemaps robots.txt names (a sitemap index,
a gzipped sitemap) and rel=next pagination, and a sitemap that is not XML costs nothing."""

from __future__ import annotations

import json

import pytest

from tests.support.crawling import TopicReader
from tests.support.polite_site import PoliteSite, SiteRules

pytestmark = [pytest.mark.redis, pytest.mark.kafka]


def test_products_only_in_a_sitemap_or_behind_rel_next_are_found(sluice_cli, settings, stack):
    site = PoliteSite(rules=SiteRules(crawl_delay="0", allowed_rate=0)).start()
    reader = TopicReader(settings)
    try:
        result = sluice_cli("crawl", "ecommerce", "--start-url", f"{site.base}/", "--json")
        report = json.loads(result.stdout)
        published = reader.read("sluice.raw.products", report["crawl_id"])
    finally:
        reader.close()
        site.stop()
    skus = {envelope["item"]["external_id"] for _, envelope in published}
    # P-07..P-12 are linked only from /page/2 (rel=next), P-13..P-15 only from the sitemap;
    # robots.txt's HTML "sitemap" is logged and skipped.
    assert (result.returncode, skus) == (0, site.skus())
