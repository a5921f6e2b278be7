"""The shop's pages and the crawl traps they set."""

from __future__ import annotations

import time

from demo.catalog import Catalog

PRODUCT_LINKS = '//a[contains(concat(" ", @class, " "), " product-link ")]/@href'


def _listing(page, category):
    """Every page of a listing: (url, parsed page) pairs, following rel=next."""
    url = f"/shop/c/{category}"
    pages = []
    while url:
        html = page(url)
        pages.append((url, html))
        next_links = html.xpath('//a[@rel="next"]/@href')
        assert len(next_links) <= 1
        url = next_links[0] if next_links else None
    return pages


def test_robots_txt_disallows_the_private_section(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.get_data(as_text=True).splitlines() == [
        "User-agent: *",
        "Disallow: /shop/private/",
    ]


def test_home_links_every_category(page, catalog):
    links = page("/shop/").xpath('//a[@class="category-link"]/@href')
    assert links == [f"/shop/c/{category}" for category in catalog.categories]


def test_listing_pagination_covers_every_product_of_a_category_exactly_once(page, catalog):
    for category in catalog.categories:
        if category == Catalog.JS_CATEGORY:
            continue
        pages = _listing(page, category)
        links = [href for _, html in pages for href in html.xpath(PRODUCT_LINKS)]
        assert links == [product.path for product in catalog.listed(category)], category
        assert all(len(html.xpath(PRODUCT_LINKS)) <= 24 for _, html in pages)
        assert len(pages) == -(-len(links) // 24)


def test_listings_link_products_also_with_tracking_parameters(page, catalog):
    html = page("/shop/c/phones?page=2")
    hrefs = html.xpath("//a/@href")
    clean = set(html.xpath(PRODUCT_LINKS))
    tracked = [href for href in hrefs if "?" in href and href.startswith("/shop/p/")]
    assert any("utm_source=newsletter&utm_medium=email" in href for href in tracked)
    assert any(href.endswith("?ref=listing") for href in tracked)
    # Every tracked URL is one of the page's products under another address.
    assert {href.split("?")[0] for href in tracked} <= clean


def test_one_listing_links_a_product_that_is_gone(client, page):
    links = page("/shop/c/laptops?page=2").xpath("//a/@href")
    assert "/shop/p/SKU-999999-discontinued" in links
    response = client.get("/shop/p/SKU-999999-discontinued")
    assert response.status_code == 404
    assert "<html" in response.get_data(as_text=True)


def test_private_section_is_linked_once_and_lists_the_private_products(page, catalog):
    linking = [
        url
        for category in catalog.categories
        if category != Catalog.JS_CATEGORY
        for url, html in _listing(page, category)
        if "/shop/private/" in html.xpath("//a/@href")
    ]
    assert linking == ["/shop/c/kitchen"]
    links = page("/shop/private/").xpath(PRODUCT_LINKS)
    assert links == [catalog.by_sku(sku).path for sku in Catalog.PRIVATE_SKUS]


def test_flaky_page_fails_once_then_answers_until_reset(client, page, catalog):
    assert "/shop/flaky" in page("/shop/c/audio").xpath("//a/@href")
    assert client.get("/shop/flaky").status_code == 500
    html = page("/shop/flaky")
    assert html.xpath(PRODUCT_LINKS) == [catalog.by_sku(Catalog.FLAKY_LINKED_SKU).path]
    assert client.get("/shop/flaky").status_code == 200
    assert client.post("/_demo/reset").status_code == 200
    assert client.get("/shop/flaky").status_code == 500
    assert client.get("/shop/flaky").status_code == 200


def test_gadgets_listing_is_rendered_by_javascript_from_a_paged_api(client, page, catalog):
    response = client.get("/shop/c/gadgets")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "/shop/p/" not in text
    html = page("/shop/c/gadgets")
    assert html.xpath(PRODUCT_LINKS) == []
    assert html.xpath('//a[@rel="next"]') == []
    script = " ".join(html.xpath("//script/text()"))
    assert "/shop/api/c/gadgets?page=1" in script
    assert "product-link" in script

    products = []
    url = "/shop/api/c/gadgets?page=1"
    calls = 0
    while url:
        body = client.get(url).get_json()
        products += body["products"]
        url = body["next"]
        calls += 1
    assert calls > 1
    assert [p["url"] for p in products] == [p.path for p in catalog.listed("gadgets")]
    assert all(p["name"] for p in products)
    assert client.get("/shop/api/c/laptops").status_code == 404


def test_slow_product_page_waits(app, catalog):
    app.config["SLOW_SECONDS"] = 0.3
    client = app.test_client()
    started = time.monotonic()
    response = client.get(catalog.by_sku(Catalog.SLOW_SKU).path)
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.3


def test_unknown_pages_are_404_html_and_unknown_api_paths_404_json(client):
    for url in ("/", "/shop/c/unknown", "/shop/p/SKU-123", "/shop/c/laptops?page=99", "/nope"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert response.mimetype == "text/html"
    response = client.get("/shop/api/c/nothing")
    assert response.status_code == 404
    assert response.get_json()["status"] == 404
    assert client.get("/shop/c/laptops?page=0").status_code == 400


def test_product_images_are_served(client, catalog):
    response = client.get(catalog.products[0].image)
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
