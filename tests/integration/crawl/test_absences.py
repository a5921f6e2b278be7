"""Disappeared products on the real PostgreSQL: complete crawls of a source that do not see a
product count it absent, enough in a row discontinue it, and seeing it again resets the count.

Products are stored through the normalizer's own merge (``processors.sql.normalizer``), as a
crawl's items would be; each test has a source of its own.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from processors.base import Origin
from processors.normalizer import ProductRow
from processors.sql import normalizer as sql
from sluice.crawl.absences import count_absences
from sluice.storage.postgres import connect

pytestmark = [pytest.mark.postgres]

T0 = datetime(2026, 11, 2, 8, tzinfo=UTC)
AFTER = 3


@dataclass
class Shop:
    """A source of the test's own and the complete crawls recorded for it."""

    conn: object
    source: str
    crawls: list[str] = field(default_factory=list)

    def crawl(self, skus: str) -> str:
        """A finished complete crawl, a day after the last, that stored ``skus`` (letters)."""
        n = len(self.crawls)
        crawl_id = f"{self.source}-{n}"
        started = T0 + timedelta(days=n)
        self.conn.execute(
            "INSERT INTO crawl_runs (crawl_id, spider, status, started_at, finished_at) "
            "VALUES (%s, 'ecommerce', 'finished', %s, %s)",
            (crawl_id, started, started + timedelta(hours=1)),
        )
        rows = [self.row(sku, crawl_id, started + timedelta(minutes=10)) for sku in skus]
        with self.conn.transaction():
            sql.create_staging(self.conn)
            sql.upsert_products(self.conn, rows)
        self.crawls.append(crawl_id)
        return crawl_id

    def row(self, sku: str, crawl_id: str, at: datetime) -> ProductRow:
        item = {
            "external_id": sku, "name": f"Product {sku}", "brand": None, "category": None,
            "price": "9.99", "currency": "EUR", "availability": "in_stock", "rating": None,
            "review_count": None, "image_url": None, "url": f"http://{self.source}/p/{sku}",
        }  # fmt: skip
        origin = Origin("test.absences", 0, 0, None)
        return ProductRow(origin, crawl_id, "ecommerce", self.source, at, item, b"")

    def state(self, sku: str) -> tuple[str, int]:
        """The product's availability and absences in a row."""
        return self.conn.execute(
            "SELECT availability, missed_crawls FROM products WHERE source = %s "
            "AND external_id = %s",
            (self.source, sku),
        ).fetchone()

    def history(self, sku: str) -> list[str]:
        """The product's availability history, oldest first."""
        rows = self.conn.execute(
            "SELECT pp.availability FROM product_prices pp JOIN products p ON p.id = "
            "pp.product_id WHERE p.source = %s AND p.external_id = %s ORDER BY pp.observed_at",
            (self.source, sku),
        )
        return [r[0] for r in rows]

    def count(self, crawl_id: str) -> list[str]:
        """Count the crawl's absences; the skus it discontinued."""
        gone = count_absences(self.conn, crawl_id, AFTER)
        rows = self.conn.execute(
            "SELECT external_id FROM products WHERE id = ANY(%s) ORDER BY 1", (gone,)
        )
        return [r[0] for r in rows]


@pytest.fixture
def shop(migrated, settings) -> Iterator[Shop]:
    with connect(settings.postgres_url, autocommit=True) as conn:
        made = Shop(conn, f"test-absent-{uuid.uuid4().hex[:8]}.localhost")
        try:
            yield made
        finally:
            conn.execute("DELETE FROM products WHERE source = %s", (made.source,))
            conn.execute("DELETE FROM crawl_runs WHERE crawl_id = ANY(%s)", (made.crawls,))


def test_three_complete_crawls_without_a_product_discontinue_it(shop):
    shop.count(shop.crawl("abc"))
    gone = [shop.count(shop.crawl("ab")) for _ in range(AFTER)]
    assert (gone, shop.state("c"), shop.history("c")) == (
        [[], [], ["c"]],
        ("discontinued", AFTER),
        ["in_stock", "discontinued"],
    )


def test_a_run_counted_twice_counts_once(shop):
    shop.count(shop.crawl("abc"))
    missing = shop.crawl("ab")
    shop.count(missing)
    shop.count(missing)  # e.g. a retried finalize step
    assert shop.state("c") == ("in_stock", 1)


def test_a_product_seen_again_starts_counting_afresh(shop):
    shop.count(shop.crawl("abc"))
    for skus in ("ab", "ab", "abc", "ab", "ab"):
        shop.count(shop.crawl(skus))
    assert shop.state("c") == ("in_stock", 2)


def test_a_discontinued_product_that_reappears_is_in_stock_again(shop):
    shop.count(shop.crawl("abc"))
    for _ in range(AFTER):
        shop.count(shop.crawl("ab"))
    shop.count(shop.crawl("abc"))
    assert (shop.state("c"), shop.history("c")) == (
        ("in_stock", 0),
        ["in_stock", "discontinued", "in_stock"],
    )
