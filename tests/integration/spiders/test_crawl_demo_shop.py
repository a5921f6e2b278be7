"""The ecommerce spider on the demo shop, two workers on one queue, real Redis and Kafka."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from sluice.schemas.envelope import EnvelopeSchema
from tests.support.crawling import DEMO_DAY, crawl_demo_shop

pytestmark = [pytest.mark.redis, pytest.mark.kafka]

COMPARED = ("name", "brand", "category", "price", "currency", "availability", "rating", "url")


@pytest.fixture(scope="module")
def shop_crawl(stack, settings, demo, sluice_cli):
    """One two-worker crawl of the demo shop, shared by the assertions below."""
    demo.reset()
    report, messages = crawl_demo_shop(sluice_cli, settings, demo.base)
    log_dir = settings.stack_dir / "logs" / "crawls" / report["crawl_id"]
    return {"report": report, "messages": messages, "hits": demo.hits(), "logs": log_dir}


def test_every_valid_product_is_published_exactly_once(shop_crawl, catalog, demo):
    expected = catalog.expected_public_products(DEMO_DAY, base_url=demo.base)
    published = Counter(env["item"]["external_id"] for _, env in shop_crawl["messages"])
    assert set(published) == set(expected)
    assert max(published.values()) == 1
    assert shop_crawl["report"]["published"] == len(expected)


def test_published_items_carry_the_shop_values_in_the_envelope_of_the_contract(
    shop_crawl, catalog, demo
):
    expected = catalog.expected_public_products(DEMO_DAY, base_url=demo.base)
    schema = EnvelopeSchema()
    for key, envelope in shop_crawl["messages"]:
        assert schema.validate(envelope) == {}
        item = envelope["item"]
        assert key == f"shop.localhost:{item['external_id']}"
        assert envelope["spider"] == "ecommerce"
        assert envelope["source"] == "shop.localhost"
        want = expected[item["external_id"]]
        assert {f: item[f] for f in COMPARED} == {f: want[f] for f in COMPARED}


def test_the_javascript_rendered_category_is_crawled(shop_crawl, catalog):
    gadgets = {p.sku for p in catalog.products if p.category == catalog.JS_CATEGORY}
    published = {env["item"]["external_id"] for _, env in shop_crawl["messages"]}
    assert gadgets and gadgets <= published


def test_two_workers_shared_the_queue_and_no_page_was_fetched_twice(shop_crawl):
    hits = shop_crawl["hits"]
    pages = {path: n for path, n in hits.items() if path.startswith("/shop/p/")}
    assert pages and set(pages.values()) == {1}
    listings = {path: n for path, n in hits.items() if path.startswith("/shop/c/")}
    assert set(listings.values()) == {1}
    # Both workers fetched pages: the work was shared, not done by one.
    per_worker = []
    for log in sorted(Path(shop_crawl["logs"]).glob("worker-*.log")):
        found = re.findall(r"'downloader/response_count': (\d+)", log.read_text())
        per_worker.append(int(found[-1]) if found else 0)
    assert len(per_worker) == 2 and min(per_worker) > 20, per_worker


def test_robots_txt_tracking_parameters_404_and_the_flaky_page(shop_crawl, catalog):
    hits = shop_crawl["hits"]
    report = shop_crawl["report"]
    assert not [p for p in hits if p.startswith("/shop/private")], "robots.txt was ignored"
    published = {env["item"]["external_id"] for _, env in shop_crawl["messages"]}
    assert not published & set(catalog.PRIVATE_SKUS)
    assert not [p for p in hits if "utm_" in p or "ref=" in p], "tracking-parameter duplicates"
    assert hits.get("/shop/p/SKU-999999-discontinued") == 1
    assert report["errors"] == {"HttpError": 1}  # the 404, reported, not retried
    assert hits.get("/shop/flaky") == 2  # 500 once, then retried and served
    assert catalog.FLAKY_LINKED_SKU in published
    assert report["dropped"] == {"no_price": 1}
    assert catalog.NO_PRICE_SKU not in published
