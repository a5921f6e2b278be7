"""Data-quality checks on the real PostgreSQL, on rows of sources and spiders of their own.

A good data set passes every check; each deliberately broken source or spider fails exactly
the check that watches for its fault. Faults the schema's constraints already refuse (a
negative price, a NULL name, an exact duplicate key) are planted in constraint-free
session copies of the tables, the situation the checks guard against: a lost constraint.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest

from sluice.quality import (
    QualityError,
    Thresholds,
    raise_for_failures,
    record,
    run_checks,
    summary,
)
from sluice.storage.postgres import connect

pytestmark = pytest.mark.postgres

ROW_CHECKS = ("null_rate", "positive_prices", "iso_currency", "duplicates", "freshness")

INSERT_PRODUCT = """
INSERT INTO products (source, external_id, name, brand, category, price, currency,
    availability, url, first_seen_at, last_seen_at, last_crawl_id, updated_at)
VALUES (%(source)s, %(external_id)s, %(name)s, %(brand)s, %(category)s, %(price)s,
    %(currency)s, 'in_stock', %(url)s, %(seen)s, %(seen)s, %(crawl_id)s, %(seen)s)
RETURNING id
"""
INSERT_PRICE = """
INSERT INTO product_prices (product_id, price, currency, availability, observed_at, crawl_id)
VALUES (%s, %s, %s, 'in_stock', %s, %s)
"""
INSERT_QUOTE = """
INSERT INTO quotes (symbol, name, exchange, price, currency, as_of, trade_date, source,
    crawl_id, fetched_at, updated_at)
VALUES (%(symbol)s, %(symbol)s, 'TEST', %(price)s, 'USD', %(as_of)s, %(as_of)s::date,
    %(source)s, %(crawl_id)s, %(as_of)s, %(as_of)s)
"""
INSERT_RUN = """
INSERT INTO crawl_runs (crawl_id, spider, status, started_at, finished_at, items_stored)
VALUES (%s, %s, %s, %s, %s, %s)
"""


@dataclass
class World:
    """The rows this module planted, by role."""

    tag: str
    now: datetime
    sources: dict[str, str] = field(default_factory=dict)
    spiders: dict[str, str] = field(default_factory=dict)

    def run_id(self) -> str:
        return f"test-{self.tag}-{uuid.uuid4().hex[:6]}"


def products(world: World, case: str, crawl_id: str, n: int = 10, **changes) -> list[dict]:
    """``n`` good product rows of source ``case``; ``changes[i]`` overrides row i."""
    source = world.sources[case]
    rows = []
    for i in range(n):
        row = {
            "source": source,
            "external_id": f"SKU-{i}",
            "name": f"Product {i}",
            "brand": "Acme",
            "category": "tools",
            "price": f"{i + 1}.50",
            "currency": "EUR",
            "url": f"http://{source}/p/{i}",
            "seen": world.now - timedelta(minutes=5),
            "crawl_id": crawl_id,
        }
        row.update(changes.get(f"row{i}", {}))
        rows.append(row)
    return rows


def insert_products(conn, rows: list[dict]) -> None:
    for row in rows:
        (product_id,) = conn.execute(INSERT_PRODUCT, row).fetchone()
        conn.execute(
            INSERT_PRICE, (product_id, row["price"], row["currency"], row["seen"], row["crawl_id"])
        )


def insert_quotes(conn, world: World, case: str, crawl_id: str, prices: list[str]) -> None:
    for i, price in enumerate(prices):
        conn.execute(
            INSERT_QUOTE,
            {
                "symbol": f"Q{world.tag.upper()}{i}",
                "price": price,
                "as_of": world.now - timedelta(minutes=10),
                "source": world.sources[case],
                "crawl_id": crawl_id,
            },
        )


@pytest.fixture(scope="module")
def world(writer) -> Iterator[World]:
    """Good sources and spiders, and one broken source or spider per fault the real
    schema admits."""
    tag = uuid.uuid4().hex[:8]
    now = writer.execute("SELECT now()").fetchone()[0]
    world = World(tag, now)
    for case in ("good", "market", "currency", "stale", "neardup"):
        world.sources[case] = f"test-{tag}-{case}.localhost"
    for case in ("good", "drop"):
        world.spiders[case] = f"test-{tag}-{case}"
    good, drop = world.spiders["good"], world.spiders["drop"]
    hours = lambda h: now - timedelta(hours=h)  # noqa: E731 - a local shorthand
    runs = [
        (f"{good}-1", good, "finished", hours(25), hours(24), 40),
        (f"{good}-2", good, "finished", hours(2), hours(1), 40),
        (f"{good}-3", good, "running", hours(0.2), None, 3),
        (f"{drop}-1", drop, "finished", hours(25), hours(24), 100),
        (f"{drop}-2", drop, "finished", hours(2), hours(1), 10),
    ]
    try:
        for run in runs:
            writer.execute(INSERT_RUN, run)
        crawl = f"{good}-2"
        insert_products(writer, products(world, "good", crawl))
        insert_quotes(writer, world, "market", crawl, ["10.00", "11.00", "12.25"])
        insert_products(writer, products(world, "currency", crawl, row3={"currency": "XXY"}))
        insert_products(
            writer,
            [dict(r, seen=hours(30)) for r in products(world, "stale", crawl)],
        )
        insert_products(
            writer,
            products(
                world,
                "neardup",
                crawl,
                row0={"external_id": "SKU-1 "},
                row1={"external_id": "sku-1"},
            ),
        )
        yield world
    finally:
        sources = list(world.sources.values())
        writer.execute("DELETE FROM products WHERE source = ANY(%s)", (sources,))
        writer.execute("DELETE FROM quotes WHERE source = ANY(%s)", (sources,))
        writer.execute(
            "DELETE FROM crawl_runs WHERE spider = ANY(%s)", (list(world.spiders.values()),)
        )
        writer.execute("DELETE FROM dq_results WHERE run_id LIKE %s", (f"test-{tag}-%",))


def failures(results) -> set[tuple[str, str]]:
    return {(r.check_name, r.scope) for r in results if not r.passed}


def test_each_broken_source_fails_exactly_its_check(writer, world):
    s, sp = world.sources, world.spiders
    results = run_checks(
        writer, world.run_id(), sources=list(s.values()), spiders=list(sp.values())
    )

    assert failures(results) == {
        ("iso_currency", f"products source={s['currency']}"),
        ("iso_currency", f"product_prices source={s['currency']}"),
        ("freshness", f"products source={s['stale']}"),
        ("duplicates", f"products source={s['neardup']}"),
        ("row_count_vs_previous", f"spider={sp['drop']}"),
    }
    good = [r for r in results if r.scope.endswith(f"source={s['good']}")]
    assert {r.check_name for r in good} == set(ROW_CHECKS)
    assert len(good) == 5 + 2 + 2 + 1 + 1  # null rates, prices and currencies of 2 tables
    assert all(r.passed for r in good)

    text = summary(results)
    assert text.startswith(f"data quality: 5 of {len(results)} checks failed\n")
    assert "'XXY': 1 row e.g. SKU-3" in text
    assert "'SKU-1 '" in text and "'sku-1'" in text
    assert f"crawl {sp['drop']}-2 stored 10 items, 90% fewer than the 100" in text
    assert "older than the 26 h tolerated" in text
    with pytest.raises(QualityError) as info:
        raise_for_failures(results)
    assert str(info.value) == text


def test_a_good_data_set_passes_every_check(writer, world):
    results = run_checks(
        writer,
        world.run_id(),
        sources=[world.sources["good"], world.sources["market"]],
        spiders=[world.spiders["good"]],
    )
    assert {r.check_name for r in results} == {"row_count_vs_previous", *ROW_CHECKS}
    assert [r.line() for r in results if not r.passed] == []
    raise_for_failures(results)
    quotes = {r.check_name for r in results if r.scope.startswith("quotes")}
    assert quotes == set(ROW_CHECKS)
    row_count = next(r for r in results if r.check_name == "row_count_vs_previous")
    assert row_count.details["previous_crawl_id"] == f"{world.spiders['good']}-1"


def test_filters_narrow_what_is_checked(writer, world):
    results = run_checks(writer, world.run_id(), sources=[world.sources["stale"]])
    # The stale source's rows, and the spider that stored them (found through its crawls).
    assert {r.scope.split(" ")[-1] for r in results} == {
        f"source={world.sources['stale']}",
        f"spider={world.spiders['good']}",
    }
    missing = f"test-{world.tag}-nothing.localhost"
    results = run_checks(writer, world.run_id(), sources=[missing], checks=["freshness"])
    assert failures(results) == {("freshness", f"source={missing}")}


def test_a_crawl_in_progress_is_compared_with_the_last_finished_run(writer, world):
    good = world.spiders["good"]
    results = run_checks(
        writer, world.run_id(), crawl_id=f"{good}-3", checks=["row_count_vs_previous"]
    )
    assert [(r.scope, r.passed, r.observed) for r in results] == [(f"spider={good}", False, 0.925)]
    assert f"previous run {good}-2" in results[0].message

    unknown = f"test-{world.tag}-never"
    results = run_checks(writer, world.run_id(), crawl_id=unknown, checks=["row_count_vs_previous"])
    assert failures(results) == {("row_count_vs_previous", f"crawl={unknown}")}


def test_thresholds_decide(writer, world):
    lenient = Thresholds(max_row_drop=0.95, max_age_hours=48)
    results = run_checks(
        writer,
        world.run_id(),
        sources=[world.sources["stale"]],
        spiders=list(world.spiders.values()),
        thresholds=lenient,
        checks=["row_count_vs_previous", "freshness"],
    )
    assert failures(results) == set()
    assert len(results) == 2 + 1 + 2  # row counts, source and spider freshness


def test_results_are_upserted_per_run_check_and_scope(settings, writer, world):
    run_id = world.run_id()
    results = run_checks(writer, run_id, sources=[world.sources["currency"]])
    # A connection in a transaction of its own: record commits when it found it idle.
    conn = connect(settings.postgres_writer_url)
    try:
        assert record(conn, run_id, results) == len(results)
    finally:
        conn.close()
    stored = writer.execute(
        "SELECT check_name, scope, passed, observed, threshold, details FROM dq_results "
        "WHERE run_id = %s ORDER BY check_name, scope",
        (run_id,),
    ).fetchall()
    assert len(stored) == len(results)
    bad = [row for row in stored if not row[2]]
    assert [(row[0], row[1]) for row in bad] == [
        ("iso_currency", f"product_prices source={world.sources['currency']}"),
        ("iso_currency", f"products source={world.sources['currency']}"),
    ]
    assert bad[0][3] == 1 and bad[0][4] == 0
    assert "ISO 4217" in bad[0][5]["message"]
    assert bad[0][5]["bad_currencies"] == {"XXY": 1}

    # A retried task writes the same keys again: updated, not duplicated.
    retried = [dataclasses.replace(r, passed=True) for r in results]
    record(writer, run_id, retried)
    again = writer.execute(
        "SELECT count(*), bool_and(passed) FROM dq_results WHERE run_id = %s", (run_id,)
    ).fetchone()
    assert again == (len(results), True)


@pytest.fixture
def unconstrained(settings, migrated) -> Iterator:
    """A connection whose products, product_prices and quotes are constraint-free temporary
    copies: session tables come first on the search path, so the checks read them."""
    with connect(settings.postgres_writer_url, autocommit=True) as conn:
        for table in ("products", "product_prices", "quotes"):
            conn.execute(f"CREATE TEMP TABLE {table} (LIKE public.{table} INCLUDING DEFAULTS)")
        conn.execute("ALTER TABLE products ALTER name DROP NOT NULL, ALTER price DROP NOT NULL")
        yield conn


def test_faults_the_schema_refuses_are_caught_when_a_constraint_is_missing(unconstrained):
    conn = unconstrained
    world = World(uuid.uuid4().hex[:8], conn.execute("SELECT now()").fetchone()[0])
    for case in ("good", "negative", "nullname", "blankname", "exactdup", "market"):
        world.sources[case] = f"test-{world.tag}-{case}.localhost"
    crawl = f"test-{world.tag}-crawl"
    insert_products(conn, products(world, "good", crawl))
    insert_products(conn, products(world, "negative", crawl, row4={"price": "-5.00"}))
    insert_products(conn, products(world, "nullname", crawl, row2={"name": None}))
    insert_products(conn, products(world, "blankname", crawl, row2={"name": "  "}))
    insert_products(conn, products(world, "exactdup", crawl, row1={"external_id": "SKU-0"}))
    insert_quotes(conn, world, "market", crawl, ["10.00", "-1.00", "12.00"])

    s = world.sources
    results = run_checks(conn, "unrecorded", sources=list(s.values()), checks=ROW_CHECKS)
    assert failures(results) == {
        ("positive_prices", f"products source={s['negative']}"),
        ("positive_prices", f"product_prices source={s['negative']}"),
        ("null_rate", f"products.name source={s['nullname']}"),
        ("null_rate", f"products.name source={s['blankname']}"),
        ("duplicates", f"products source={s['exactdup']}"),
        ("positive_prices", f"quotes source={s['market']}"),
    }
    text = summary(results)
    assert "SKU-4: -5.0000" in text
    assert "1 of 10 rows (10%) have no name, more than the 0% tolerated (e.g. SKU-2)" in text
    assert "'SKU-0' vs 'SKU-0'" in text
    assert f"Q{world.tag.upper()}1 @ " in text
