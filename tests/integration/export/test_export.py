"""Daily CSV export from the real PostgreSQL, for a day no other test writes rows on.

The rows of this module lie on one random day of the last century, so the files hold
exactly them whatever else the shared database contains.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest

from sluice.export import TABLES, ExportError, export_day, export_path
from sluice.export import daily as daily_module
from sluice.storage.postgres import connect

pytestmark = pytest.mark.postgres

TRICKY_NAME = 'Saw, 12" "Pro"\nsecond line'


@dataclass
class Day:
    """The day under test and the names of what was planted on it."""

    day: date
    tag: str
    source: str

    def at(self, hours: float, days: int = 0) -> datetime:
        start = datetime(self.day.year, self.day.month, self.day.day, tzinfo=UTC)
        return start + timedelta(days=days, hours=hours)


def add_product(conn, d: Day, sku: str, updated_at: datetime, name: str = "Hammer") -> int:
    return conn.execute(
        "INSERT INTO products (source, external_id, name, price, currency, url, first_seen_at, "
        "last_seen_at, last_crawl_id, updated_at) "
        "VALUES (%s, %s, %s, 9.99, 'EUR', %s, %s, %s, %s, %s) RETURNING id",
        (
            d.source,
            sku,
            name,
            f"http://{d.source}/{sku}",
            updated_at,
            updated_at,
            f"test-{d.tag}-a",
            updated_at,
        ),
    ).fetchone()[0]


@pytest.fixture(scope="module")
def planted(writer) -> Iterator[Day]:
    """Rows inside the day, and rows a microsecond either side of it."""
    seed = uuid.uuid4()
    d = Day(
        date(1950, 1, 1) + timedelta(days=seed.int % 18_000),
        seed.hex[:8],
        f"test-{seed.hex[:8]}.localhost",
    )
    micro = timedelta(microseconds=1)
    try:
        inside = [
            add_product(writer, d, "p-start", d.at(0)),
            add_product(writer, d, "p-noon", d.at(12), name=TRICKY_NAME),
            add_product(writer, d, "p-end", d.at(24) - micro),
        ]
        add_product(writer, d, "p-next-day", d.at(24))
        add_product(writer, d, "p-day-before", d.at(0) - micro)
        for product_id, observed in (
            (inside[0], d.at(1)),
            (inside[1], d.at(23)),
            (inside[2], d.at(25)),
        ):
            writer.execute(
                "INSERT INTO product_prices (product_id, price, currency, observed_at) "
                "VALUES (%s, 9.99, 'EUR', %s)",
                (product_id, observed),
            )
        for i, trade_date in enumerate((d.day, d.day, d.day + timedelta(days=1))):
            as_of = datetime.combine(trade_date, datetime.min.time(), UTC) + timedelta(hours=20)
            writer.execute(
                "INSERT INTO quotes (symbol, price, currency, as_of, trade_date, source, "
                "fetched_at) VALUES (%s, 1.5, 'USD', %s, %s, %s, %s)",
                (f"E{d.tag.upper()}{i}", as_of, trade_date, d.source, as_of),
            )
        for name, started in (("a", d.at(6)), ("b", d.at(24) - micro), ("c", d.at(-1))):
            writer.execute(
                "INSERT INTO crawl_runs (crawl_id, spider, started_at) VALUES (%s, %s, %s)",
                (f"test-{d.tag}-{name}", f"test-{d.tag}", started),
            )
        yield d
    finally:
        writer.execute("DELETE FROM products WHERE source = %s", (d.source,))
        writer.execute("DELETE FROM quotes WHERE source = %s", (d.source,))
        writer.execute("DELETE FROM crawl_runs WHERE spider = %s", (f"test-{d.tag}",))


@pytest.fixture
def reader(settings, migrated) -> Iterator:
    """The read-only role is enough to export."""
    with connect(settings.postgres_reader_url, autocommit=True) as conn:
        yield conn


def read_csv(path) -> list[dict[str, str]]:
    with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_one_gzipped_csv_per_table_with_the_days_rows(reader, planted, tmp_path):
    # Files are in UTC whatever the session's time zone.
    reader.execute("SET TimeZone = 'America/New_York'")
    files = export_day(reader, planted.day, tmp_path)

    assert [f.table for f in files] == list(TABLES)
    assert {f.table: f.rows for f in files} == {
        "products": 3,
        "product_prices": 2,
        "quotes": 2,
        "crawl_runs": 2,
    }
    for f in files:
        assert f.path == export_path(tmp_path, planted.day, f.table)
        assert f.path == tmp_path / planted.day.isoformat() / f"{f.table}.csv.gz"
        assert f.sha256 == sha256(f.path)
        assert f.size == f.path.stat().st_size
        assert len(read_csv(f.path)) == f.rows
    assert sorted(p.name for p in (tmp_path / planted.day.isoformat()).iterdir()) == sorted(
        f"{t}.csv.gz" for t in TABLES
    )

    products = read_csv(files[0].path)
    assert [p["external_id"] for p in products] == ["p-start", "p-noon", "p-end"]
    assert products[1]["name"] == TRICKY_NAME  # quoting survives commas, quotes, newlines
    assert products[0]["updated_at"] == f"{planted.day.isoformat()} 00:00:00+00"
    assert products[2]["updated_at"].endswith("23:59:59.999999+00")
    assert products[0]["brand"] == ""  # NULL is an empty field
    assert list(products[0])[:3] == ["id", "source", "external_id"]

    prices = read_csv(files[1].path)
    assert {p["external_id"] for p in prices} == {"p-start", "p-noon"}
    assert {p["source"] for p in prices} == {planted.source}
    quotes = read_csv(files[2].path)
    assert {q["trade_date"] for q in quotes} == {planted.day.isoformat()}
    runs = read_csv(files[3].path)
    assert [r["crawl_id"] for r in runs] == [f"test-{planted.tag}-a", f"test-{planted.tag}-b"]
    assert runs[0]["params"] == "{}"

    assert reader.execute("SHOW TimeZone").fetchone()[0] == "America/New_York"


def test_a_rerun_replaces_the_file_whole(reader, writer, planted, tmp_path):
    first = export_day(reader, planted.day, tmp_path, tables=["products"])[0]
    again = export_day(reader, planted.day, tmp_path, tables=["products"])[0]
    assert again.sha256 == first.sha256  # same rows, same bytes

    add_product(writer, planted, "p-late", planted.at(18))
    try:
        rerun = export_day(reader, planted.day, tmp_path, tables=["products"])[0]
    finally:
        writer.execute(
            "DELETE FROM products WHERE source = %s AND external_id = 'p-late'",
            (planted.source,),
        )
    assert rerun.path == first.path
    assert rerun.rows == first.rows + 1
    assert rerun.sha256 == sha256(rerun.path) != first.sha256
    assert [p.name for p in rerun.path.parent.iterdir()] == ["products.csv.gz"]


def test_a_failed_export_keeps_the_previous_file(reader, planted, tmp_path, monkeypatch):
    before = export_day(reader, planted.day, tmp_path, tables=["quotes"])[0]
    # A query that breaks on its first row, after COPY has begun.
    monkeypatch.setitem(
        daily_module.EXPORTS,
        "quotes",
        "SELECT id, 1 / (id - id) AS boom FROM quotes WHERE trade_date = %(day)s ORDER BY id",
    )
    with pytest.raises(ExportError) as info:
        export_day(reader, planted.day, tmp_path, tables=["quotes"])
    assert f"exporting quotes for {planted.day.isoformat()}" in str(info.value)
    assert "division by zero" in str(info.value)
    assert sha256(before.path) == before.sha256
    assert [p.name for p in before.path.parent.iterdir()] == ["quotes.csv.gz"]


def test_inside_a_transaction_of_the_caller(settings, planted, tmp_path):
    with connect(settings.postgres_reader_url) as conn:
        conn.execute("SET TimeZone = 'Asia/Tokyo'")
        conn.execute("SELECT 1")  # the caller's transaction is open
        files = export_day(conn, planted.day, tmp_path, tables=["crawl_runs"])
        assert files[0].rows == 2
        assert conn.info.transaction_status.name == "INTRANS"
        assert conn.execute("SHOW TimeZone").fetchone()[0] == "Asia/Tokyo"
    text = gzip.decompress(files[0].path.read_bytes()).decode()
    assert f"{planted.day.isoformat()} 06:00:00+00" in text
    assert io.StringIO(text).readline().startswith("crawl_id,spider,")
