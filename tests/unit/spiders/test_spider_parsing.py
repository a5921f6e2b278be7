"""The spiders' callbacks on saved shop pages and on pages of the in-process demo market."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse, Response, TextResponse

from demo.app import create_app
from demo.market import Market
from spiders.items import CrawledItem
from spiders.sites import BUNDLED, SiteRegistry
from spiders.spiders.ecommerce import EcommerceSpider
from spiders.spiders.finance import FinanceSpider, trade_date

PAGES = Path(__file__).resolve().parents[2] / "fixtures" / "pages"
DAY = date(2026, 11, 20)
BASE = "http://127.0.0.1:8000"


def page(name: str) -> bytes:
    return (PAGES / f"{name}.html").read_bytes()


def html_response(url: str, body: bytes, meta: dict | None = None) -> HtmlResponse:
    return HtmlResponse(url, body=body, encoding="utf-8", request=Request(url, meta=meta or {}))


def split(output) -> tuple[list[CrawledItem], list[Request]]:
    output = list(output)
    items = [o for o in output if isinstance(o, CrawledItem)]
    requests = [o for o in output if isinstance(o, Request)]
    assert len(items) + len(requests) == len(output), output
    return items, requests


# --- ecommerce --------------------------------------------------------------------------------


@pytest.fixture
def shop_spider() -> EcommerceSpider:
    spider = EcommerceSpider(crawl_id="t")
    spider.sites = SiteRegistry(list(BUNDLED))
    return spider


def test_parse_page_yields_the_products_of_a_listing(shop_spider):
    url = "https://leafandkettle.example/collections/teapots?page=1"

    items, requests = split(shop_spider.parse_page(html_response(url, page("listing"))))

    assert [i.schema for i in items] == ["product/1"] * 3
    assert {i.source for i in items} == {"leafandkettle.example"}  # no profile: the host
    assert [i.item["external_id"] for i in items] == [
        "LK-TP-CI08",
        "LK-TP-GL10",
        "https://leafandkettle.example/products/porcelain-teapot-white",
    ]
    assert [i.item["price"] for i in items] == ["48.00", "32.50", "27.00"]
    # Each item is filed under its product's own URL, not the listing's.
    assert [i.url for i in items] == [i.item["url"] for i in items]
    assert items[0].url == "https://leafandkettle.example/products/cast-iron-teapot"
    assert [r.url for r in requests] == [
        "https://leafandkettle.example/products/cast-iron-teapot",
        "https://leafandkettle.example/products/glass-teapot",
        "https://leafandkettle.example/products/porcelain-teapot-white",
    ]
    assert all(r.callback == shop_spider.parse_page for r in requests)


def test_parse_page_files_a_product_under_its_canonical_url(shop_spider):
    url = "https://shop.northwind.example/products/aurora-2-wireless-headphones?utm_source=mail"

    items, _ = split(shop_spider.parse_page(html_response(url, page("jsonld_product"))))

    (item,) = items
    assert item.schema == "product/1"
    assert item.source == "shop.northwind.example"
    assert item.item["external_id"] == "NW-AUR2-BLK"
    assert item.url == "https://shop.northwind.example/products/aurora-2-wireless-headphones"


def test_parse_page_uses_the_site_profile_source(shop_spider):
    url = f"{BASE}/shop/p/aurora"

    items, _ = split(shop_spider.parse_page(html_response(url, page("jsonld_product"))))

    assert [i.source for i in items] == ["shop.localhost"]


def test_parse_page_follows_page_links_but_not_fragments_mail_scripts_or_assets(shop_spider):
    links = [
        "/products/tea",
        "  /products/kettle?colour=red  ",
        "other.html",
        "https://elsewhere.example/p",  # offsite links are the filter middleware's business
        "#reviews",
        "",
        "mailto:shop@example.com",
        "javascript:void(0)",
        "tel:+15550100",
        "/img/teapot.JPG",
        "/img/teapot.png?w=200",
        "/static/site.css",
        "/static/app.js",
        "/docs/manual.pdf",
    ]
    body = "".join(f'<a href="{href}">x</a>' for href in links)
    html = page("no_markup").replace(b"</body>", body.encode() + b"</body>")
    url = "https://leafandkettle.example/collections/teapots"

    items, requests = split(shop_spider.parse_page(html_response(url, html)))

    assert items == []
    followed = [r.url for r in requests]
    for expected in (
        "https://leafandkettle.example/products/tea",
        "https://leafandkettle.example/products/kettle?colour=red",
        "https://leafandkettle.example/collections/other.html",
        "https://elsewhere.example/p",
    ):
        assert expected in followed
    for url_part in ("#", "mailto:", "javascript:", "tel:", ".JPG", ".png", ".css", ".js", ".pdf"):
        assert not any(url_part in u for u in followed), (url_part, followed)


def test_parse_page_ignores_non_text_responses(shop_spider):
    url = "https://shop.example/img.png"
    response = Response(url, body=b"\x89PNG <a href='/p'>", request=Request(url))

    assert list(shop_spider.parse_page(response)) == []


def test_parse_handles_seeded_requests_as_pages(shop_spider):
    url = "https://leafandkettle.example/collections/teapots"

    items, _ = split(shop_spider.parse(html_response(url, page("listing"))))

    assert len(items) == 3


# --- finance ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def market_client():
    app = create_app(seed=7, day=DAY, slow_seconds=0)
    return app.test_client()


@pytest.fixture
def finance_spider() -> FinanceSpider:
    spider = FinanceSpider(crawl_id="t", date=DAY.isoformat())
    spider.sites = SiteRegistry(list(BUNDLED))
    return spider


def expected_quotes() -> list[dict]:
    return Market(seed=7).quotes_on(DAY)


def market_response(client, path: str) -> TextResponse:
    served = client.get(path)
    assert served.status_code == 200
    url = BASE + path
    cls = HtmlResponse if served.mimetype == "text/html" else TextResponse
    return cls(
        url,
        body=served.data,
        encoding="utf-8",
        headers={"Content-Type": served.content_type},
        request=Request(url, meta={"trade_date": DAY.isoformat()}),
    )


def assert_first_page(items: list[CrawledItem], url: str) -> None:
    expected = expected_quotes()
    assert 0 < len(items) < len(expected)  # the first page only
    for got, want in zip(items, expected, strict=False):
        assert got.schema == "quote/1"
        assert got.source == "market.localhost"
        assert got.url == url
        for name, value in want.items():
            assert got.item[name] == value, (want["symbol"], name)
        assert set(got.item) == set(want)


def test_parse_quotes_table_reads_every_field(market_client, finance_spider):
    path = "/market/quotes?date=2026-11-20"
    response = market_response(market_client, path)

    items, requests = split(finance_spider.parse_quotes_table(response))

    assert_first_page(items, BASE + path)
    (follow,) = requests
    assert follow.url == f"{BASE}/market/quotes?date=2026-11-20&page=2"
    assert follow.meta == {"trade_date": "2026-11-20"}
    assert follow.callback == finance_spider.parse


def test_parse_quotes_table_last_page_has_no_next(market_client, finance_spider):
    path = "/market/quotes?date=2026-11-20&page=2"

    items, requests = split(finance_spider.parse_quotes_table(market_response(market_client, path)))

    # The demo market shows 25 symbols a page: page 2 holds the rest, in symbol order.
    assert [i.item for i in items] == expected_quotes()[25:]
    assert requests == []


def test_parse_quotes_json_reads_every_field(market_client, finance_spider):
    path = "/market/api/quotes?date=2026-11-20"
    response = market_response(market_client, path)

    items, requests = split(finance_spider.parse_quotes_json(response))

    assert_first_page(items, BASE + path)
    (follow,) = requests
    assert follow.url == f"{BASE}/market/api/quotes?date=2026-11-20&page=2"
    assert follow.meta == {"trade_date": "2026-11-20"}


def test_parse_dispatches_on_the_content_type(market_client, finance_spider):
    table = market_response(market_client, "/market/quotes?date=2026-11-20")
    api = market_response(market_client, "/market/api/quotes?date=2026-11-20")

    table_items, _ = split(finance_spider.parse(table))
    api_items, _ = split(finance_spider.parse(api))

    assert [i.item for i in table_items] == [i.item for i in api_items]


def test_parse_quotes_json_takes_the_day_from_the_request_when_the_payload_has_none(
    finance_spider,
):
    quote = {k: v for k, v in expected_quotes()[0].items() if k != "trade_date"}
    body = json.dumps({"quotes": [quote], "next": None}).encode()
    url = f"{BASE}/market/api/quotes"
    response = TextResponse(
        url, body=body, encoding="utf-8", request=Request(url, meta={"trade_date": "2026-11-19"})
    )

    items, requests = split(finance_spider.parse_quotes_json(response))

    assert [i.item["trade_date"] for i in items] == ["2026-11-19"]
    assert requests == []


def test_trade_date_parses_iso_dates():
    assert trade_date("2026-11-20") == DAY


def test_trade_date_rejects_a_bad_date_naming_it():
    with pytest.raises(ValueError, match=r"date='20/11/2026' is not YYYY-MM-DD"):
        trade_date("20/11/2026")
    with pytest.raises(ValueError, match="2026-02-30"):
        FinanceSpider(crawl_id="t", date="2026-02-30")


def test_finance_seed_requests_carry_the_date():
    (request,) = FinanceSpider.seed_requests([f"{BASE}/market/quotes"], {"date": "2026-11-20"})

    assert request.url == f"{BASE}/market/quotes?date=2026-11-20"
    assert request.meta == {"trade_date": "2026-11-20"}
