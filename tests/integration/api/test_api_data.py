"""Every endpoint and filter of the API on rows of the tests' own."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from tests.integration.api.conftest import TRADE_DAYS, walk

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

PRODUCTS = "/api/v1/products"


def skus(items) -> list[str]:
    return [item["external_id"] for item in items]


def expected_order(rows: list[dict], column: str, descending: bool) -> list[str]:
    ordered = sorted(rows, key=lambda r: (r[column], r["id"]), reverse=descending)
    return [r["external_id"] for r in ordered]


@pytest.mark.parametrize(
    ("sort", "column", "descending"),
    [
        ("id", "id", False),
        ("-id", "id", True),
        ("price", "price", False),
        ("-price", "price", True),
        ("name", "name", False),
    ],
)
def test_pages_visit_every_row_once_in_order(client, key, catalog, sort, column, descending):
    items = walk(client, key, PRODUCTS, source=catalog["source"], sort=sort, limit=7)
    assert skus(items) == expected_order(catalog["products"], column, descending)


def test_each_filter_selects_exactly_its_rows(client, key, catalog):
    rows, source = catalog["products"], catalog["source"]

    def listed(**params) -> set[str]:
        return set(skus(walk(client, key, PRODUCTS, source=source, limit=200, **params)))

    def where(test) -> set[str]:
        return {r["external_id"] for r in rows if test(r)}

    assert listed(category="toys") == where(lambda r: r["category"] == "toys")
    assert listed(brand="Borel") == where(lambda r: r["brand"] == "Borel")
    assert listed(availability="preorder") == where(lambda r: r["availability"] == "preorder")
    assert listed(min_price="15", max_price="20.5") == where(
        lambda r: Decimal("15") <= r["price"] <= Decimal("20.5")
    )
    assert listed(q="widget 01") == where(lambda r: "widget 01" in r["name"].lower())
    assert listed(q="50%") == {"SKU-007"}  # a literal %, not a wildcard
    since = catalog["seen"].replace(hour=20).isoformat()
    assert listed(updated_since=since) == {f"SKU-{n:03d}" for n in range(12, 30)}
    assert listed(brand="Acme", category="tools") == where(
        lambda r: r["brand"] == "Acme" and r["category"] == "tools"
    )


def test_one_product_and_its_price_history(client, key, catalog):
    product = catalog["products"][4]
    one = client.get(f"{PRODUCTS}/{product['id']}", headers={"X-API-Key": key})
    assert one.status_code == 200
    assert one.json["external_id"] == "SKU-004" and one.json["price"] == f"{product['price']:.4f}"
    history = walk(client, key, f"{PRODUCTS}/{product['id']}/prices", limit=2)
    assert [h["price"] for h in history] == [f"{product['price'] + d:.4f}" for d in range(3)]
    assert client.get(f"{PRODUCTS}/999999999", headers={"X-API-Key": key}).status_code == 404
    missing = client.get(f"{PRODUCTS}/999999999/prices", headers={"X-API-Key": key})
    assert missing.status_code == 404 and missing.json["error"]["code"] == "not_found"


def test_quotes_by_symbol_and_date_range_and_the_latest(client, key, catalog):
    symbol = catalog["symbols"][0]
    items = walk(
        client, key, "/api/v1/quotes", symbol=symbol.lower(), date_from=str(TRADE_DAYS[1]),
        date_to=str(TRADE_DAYS[2]), sort="as_of", limit=1,
    )  # fmt: skip
    assert [q["trade_date"] for q in items] == [str(TRADE_DAYS[1]), str(TRADE_DAYS[2])]
    latest = client.get(f"/api/v1/quotes/{symbol}", headers={"X-API-Key": key})
    assert latest.status_code == 200 and latest.json["trade_date"] == str(TRADE_DAYS[2])
    assert client.get("/api/v1/quotes/NOSUCH1", headers={"X-API-Key": key}).status_code == 404


def test_crawl_runs_list_filter_and_one(client, key, catalog, settings):
    from sluice.crawl import runs
    from sluice.storage.postgres import connect

    crawl_id = f"api-crawl-{catalog['source'][:12]}"
    with connect(settings.postgres_writer_url, autocommit=True) as conn:
        runs.register(conn, crawl_id, "apitest", "manual__x", {"workers": 1})
        runs.finalize(conn, crawl_id, "finished", {"downloader/response_count": 3})
    listed = walk(client, key, "/api/v1/crawls", spider="apitest", status="finished", limit=1)
    assert crawl_id in [run["crawl_id"] for run in listed]
    one = client.get(f"/api/v1/crawls/{crawl_id}", headers={"X-API-Key": key})
    assert one.status_code == 200 and one.json["stats"] == {"downloader/response_count": 3}
    assert client.get("/api/v1/crawls/nope", headers={"X-API-Key": key}).status_code == 404


def test_csv_exports_stream_the_same_rows_as_the_listing(client, key, catalog):
    source = catalog["source"]
    response = client.get(
        f"{PRODUCTS}/export.csv", query_string={"source": source, "brand": "Cyan"},
        headers={"X-API-Key": key},
    )  # fmt: skip
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    listed = walk(client, key, PRODUCTS, source=source, brand="Cyan", limit=200)
    assert [r["external_id"] for r in rows] == skus(listed)
    quotes = client.get(
        "/api/v1/quotes/export.csv", query_string={"symbol": catalog["symbols"][1]},
        headers={"X-API-Key": key},
    )  # fmt: skip
    assert len(list(csv.DictReader(io.StringIO(quotes.get_data(as_text=True))))) == 3
