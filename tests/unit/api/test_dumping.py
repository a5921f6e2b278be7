"""A compiled schema dumps exactly what marshmallow dumps, for every response schema."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from marshmallow import Schema, fields
from msgspec.json import encode

from api.dumping import compile_dump
from api.schemas import (
    CrawlPage,
    PricePage,
    Product,
    ProductPage,
    Quote,
    QuotePage,
)

SEEN = datetime(2026, 11, 23, 8, 30, 15, 123456, tzinfo=UTC)

PRODUCT = {
    "id": 7,
    "source": "shop.localhost",
    "external_id": "SKU-007",
    "name": "Widget, 50% off \u00e9\u4e2d",
    "brand": None,
    "category": "tools",
    "price": Decimal("19.9900"),
    "currency": "USD",
    "availability": "in_stock",
    "rating": Decimal("4.50"),
    "review_count": None,
    "image_url": None,
    "url": "http://shop.localhost/p/7",
    "first_seen_at": SEEN,
    "last_seen_at": SEEN,
    "updated_at": SEEN,
    "last_crawl_id": "not in the schema",
}
QUOTE = {
    "id": 3,
    "symbol": "ACME",
    "name": "Acme",
    "exchange": "NYSE",
    "price": Decimal("1E+2"),
    "currency": "USD",
    "change": Decimal("-0.10"),
    "change_pct": None,
    "volume": 100,
    "as_of": SEEN,
    "trade_date": date(2026, 11, 23),
    "source": "market.localhost",
}
PRICE = {
    "id": 1,
    "product_id": 7,
    "price": Decimal("0.0001"),
    "currency": "EUR",
    "availability": "preorder",
    "observed_at": SEEN,
    "crawl_id": None,
}
CRAWL = {
    "crawl_id": "c-1",
    "spider": "ecommerce",
    "airflow_run_id": None,
    "status": "running",
    "params": {"start_urls": ["http://shop.localhost/"]},
    "stats": {},
    "started_at": SEEN,
    "finished_at": None,
    "items_received": 3,
    "items_stored": 2,
    "items_rejected": 1,
}
# Values of other types than rows hold: each goes through its field, as marshmallow does.
ODD_PRODUCT = {**PRODUCT, "price": 19.99, "id": True, "rating": "4.5", "name": 12}


@pytest.mark.parametrize(
    ("schema", "payload"),
    [
        (ProductPage, {"items": [PRODUCT, ODD_PRODUCT], "next": "abc"}),
        (ProductPage, {"items": [], "next": None}),
        (Product, PRODUCT),
        (Product, {"id": 1, "name": "only two fields"}),
        (PricePage, {"items": [PRICE], "next": None}),
        (QuotePage, {"items": [QUOTE], "next": "q"}),
        (Quote, QUOTE),
        (CrawlPage, {"items": [CRAWL], "next": None}),
    ],
    ids=["products", "empty", "product", "sparse", "prices", "quotes", "quote", "crawls"],
)
def test_a_compiled_schema_dumps_what_marshmallow_dumps(schema, payload):
    # Compared as the bytes sent: key order and JSON types (true is not 1) count.
    assert encode(compile_dump(schema())(payload)) == encode(schema().dump(payload))


def test_a_field_it_does_not_know_is_dumped_by_the_field():
    odd = Schema.from_dict({"at": fields.DateTime(format="%Y"), "n": fields.Float()})()
    payload = {"at": SEEN, "n": 2}
    assert compile_dump(odd)(payload) == {"at": "2026", "n": 2.0}
