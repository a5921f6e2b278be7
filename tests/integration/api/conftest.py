"""The API over the real PostgreSQL and Redis, through Flask's test client."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from api import keys
from api.app import create_app
from sluice.storage.postgres import connect


@pytest.fixture(scope="module")
def app(stack, settings, migrated):
    result_app = create_app(settings)
    result_app.testing = True
    return result_app


@pytest.fixture
def client(app):
    return app.test_client()


def make_key(settings, rate_limit: int = 10_000) -> tuple[str, str]:
    """(name, key) of a new API key."""
    name = f"test-{uuid.uuid4().hex[:8]}"
    with connect(settings.postgres_writer_url, autocommit=True) as conn:
        return name, keys.create(conn, name, rate_limit).key


@pytest.fixture(scope="module")
def key(stack, settings, migrated) -> str:
    return make_key(settings)[1]


BRANDS = ["Acme", "Borel", "Cyan"]
CATEGORIES = ["tools", "toys"]
AVAILABILITY = ["in_stock", "out_of_stock", "preorder", "unknown"]


@pytest.fixture(scope="module")
def catalog(settings, migrated) -> dict:
    """30 products of a source of this module's own, with price histories, and 3 days of quotes
    for two symbols of its own."""
    source = f"api-{uuid.uuid4().hex[:8]}.localhost"
    symbols = [f"Z{uuid.uuid4().hex[:5].upper()}", f"Y{uuid.uuid4().hex[:5].upper()}"]
    seen = datetime(2026, 11, 1, 8, tzinfo=UTC)
    products = []
    with connect(settings.postgres_writer_url, autocommit=True) as conn:
        for n in range(30):
            row = {
                "source": source,
                "external_id": f"SKU-{n:03d}",
                "name": f"{'50% off ' if n == 7 else ''}Widget {n:03d} {BRANDS[n % 3]}",
                "brand": BRANDS[n % 3],
                "category": CATEGORIES[n % 2],
                "price": Decimal(f"{10 + (n * 7) % 23}.{n:02d}"),
                "currency": "USD",
                "availability": AVAILABILITY[n % 4],
                "url": f"http://{source}/p/{n}",
            }
            row["id"] = conn.execute(
                "INSERT INTO products (source, external_id, name, brand, category, price, "
                "currency, availability, url, first_seen_at, last_seen_at, updated_at) "
                "VALUES (%(source)s, %(external_id)s, %(name)s, %(brand)s, %(category)s, "
                "%(price)s, %(currency)s, %(availability)s, %(url)s, %(seen)s, %(seen)s, "
                "%(updated)s) RETURNING id",
                {**row, "seen": seen, "updated": seen + timedelta(hours=n)},
            ).fetchone()[0]
            for day in range(3):
                conn.execute(
                    "INSERT INTO product_prices (product_id, price, currency, availability, "
                    "observed_at, crawl_id) VALUES (%s, %s, 'USD', 'in_stock', %s, 'api-test')",
                    (row["id"], row["price"] + day, seen + timedelta(days=day)),
                )
            products.append(row)
        for symbol in symbols:
            for day in range(3):
                as_of = datetime(2026, 11, 2 + day, 21, tzinfo=UTC)
                conn.execute(
                    "INSERT INTO quotes (symbol, name, exchange, price, currency, change, "
                    "change_pct, volume, as_of, trade_date, source, crawl_id, fetched_at) "
                    "VALUES (%s, %s, 'NYSE', %s, 'USD', 0.1, 0.5, 100, %s, %s, "
                    "'market.localhost', 'api-test', %s)",
                    (symbol, symbol, 10 + day, as_of, as_of.date(), as_of),
                )
    yield {"source": source, "products": products, "symbols": symbols, "seen": seen}
    with connect(settings.postgres_writer_url, autocommit=True) as conn:
        conn.execute("DELETE FROM products WHERE source = %s", (source,))
        conn.execute("DELETE FROM quotes WHERE symbol = ANY(%s)", (symbols,))


def walk(client, key: str, path: str, **params) -> list[dict]:
    """Every item of a listing, following ``next`` to the end."""
    items, cursor = [], None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = client.get(path, query_string=query, headers={"X-API-Key": key})
        assert response.status_code == 200, response.json
        items += response.json["items"]
        cursor = response.json["next"]
        if cursor is None:
            return items


TRADE_DAYS = [date(2026, 11, 2 + n) for n in range(3)]
