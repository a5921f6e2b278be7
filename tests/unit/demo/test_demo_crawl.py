"""A polite crawl of the shop through the test client finds exactly the expected products."""

from __future__ import annotations

from collections import deque
from urllib.parse import parse_qsl, urlencode, urlsplit

import lxml.html

from demo.catalog import Catalog

TRACKING = {"utm_source", "utm_medium", "ref"}


def _normalise(href: str) -> str | None:
    """The crawl key of a same-site link, without tracking parameters; None to skip it."""
    parts = urlsplit(href)
    if parts.netloc not in ("", "localhost") or not parts.path.startswith("/shop/"):
        return None
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in TRACKING]
    return parts.path + (f"?{urlencode(query)}" if query else "")


def test_polite_crawl_from_the_shop_home_finds_the_expected_products(client, catalog, day):
    disallowed = "/shop/private/"
    assert f"Disallow: {disallowed}" in client.get("/robots.txt").get_data(as_text=True)
    seen = {"/shop/"}
    queue = deque(["/shop/"])
    priced: set[str] = set()
    unpriced: set[str] = set()
    statuses: dict[str, int] = {}
    while queue:
        url = queue.popleft()
        response = client.get(url)
        if response.status_code == 500:  # one retry, as the crawler's retry middleware does
            response = client.get(url)
        statuses[url] = response.status_code
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        html = lxml.html.fromstring(response.get_data(as_text=True))
        hrefs = html.xpath("//a/@href") + html.xpath("//img/@src")
        if url == f"/shop/c/{Catalog.JS_CATEGORY}":
            # What the inline script would add to the page once it ran.
            api = f"/shop/api/c/{Catalog.JS_CATEGORY}?page=1"
            while api:
                body = client.get(api).get_json()
                hrefs += [product["url"] for product in body["products"]]
                api = body["next"]
        canonical = html.xpath('//link[@rel="canonical"]/@href')
        if canonical and url.startswith("/shop/p/"):
            sku = urlsplit(canonical[0]).path.split("/")[3][:10]
            (priced if html.xpath('//*[@class="price"]') else unpriced).add(sku)
        for href in hrefs:
            key = _normalise(href)
            if key and key not in seen and not key.startswith(disallowed):
                seen.add(key)
                queue.append(key)

    expected = catalog.expected_public_products(day)
    assert priced == set(expected)
    assert unpriced == {Catalog.NO_PRICE_SKU}
    assert statuses["/shop/flaky"] == 200
    assert statuses["/shop/p/SKU-999999-discontinued"] == 404
    assert not any(url.startswith(disallowed) for url in statuses)
