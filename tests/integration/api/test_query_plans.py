"""No documented filter or sort of the products listing, and no page of a price history,
needs a full scan of ``products`` or ``product_prices``.

Each request's SQL is built by the API's own service layer (``products_page``,
``prices_page``) from the query string loaded through the API's own schema, then
``EXPLAIN``-ed on the real PostgreSQL, over a synthetic catalog in a scratch schema that has
``public``'s indexes (:mod:`bench.scale_data`) and its statistics. With sequential scans
disabled the planner takes any index over a table scan, even a useless one, so the plan is
checked for full scans in disguise too: an index walked from end to end only to discard
rows (a scan with a ``Filter`` and no ``Index Cond``), or to feed a sort of everything.

Filters take rare values (the smallest source, the rarest availability, a price bound few
products pass): a common value is met within a page or two of any walk, which the planner
rightly prefers, so only a rare one shows whether an index serves the filter at all.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from psycopg import sql
from sqlalchemy import create_engine, select

from api.schemas import CHANGE_KINDS, PRODUCT_SORTS, PageQuery, ProductQuery
from api.services import products as service
from api.tables import products
from bench import scale_data
from bench.scale_cases import CASES, FILTERS, PRICES, SORTS, Case, covered_filters
from bench.scale_cases import documented_filters as documented
from sluice import changes
from sluice.storage.postgres import connect, sqlalchemy_url

pytestmark = [pytest.mark.postgres]

#: the tables no documented request may scan in full (and their partitions, if any)
GUARDED = ("products", "product_prices")
# Large enough for the statistics to tell a rare value from a common one.
SIZE = scale_data.Size(40_000, prices_per_product=4, tag=f"plans_{uuid.uuid4().hex[:8]}")
#: a product in the middle of the catalog: deep pages start there
SAMPLE_ID = 20_011
#: nodes that read all their input before giving a row: a scan under one is read in full
BLOCKING = {"Sort", "Incremental Sort", "Hash", "Aggregate", "Materialize", "SetOp", "WindowAgg"}


@pytest.fixture(scope="module")
def catalog(settings, migrated) -> Iterator[scale_data.Size]:
    with connect(settings.postgres_url, autocommit=True) as conn:
        scale_data.generate(conn, SIZE)
        try:
            yield SIZE
        finally:
            scale_data.drop(conn, SIZE.schema)


@pytest.fixture(scope="module")
def explain(settings, catalog):
    """``explain(statement)``: the JSON plan of a SQLAlchemy statement over the catalog."""
    engine = create_engine(sqlalchemy_url(settings.postgres_url))

    def plan(statement) -> dict:
        compiled = statement.compile(dialect=engine.dialect)
        with engine.connect() as conn, conn.begin():
            # The catalog's tables take the place of public's, as the API names them unqualified.
            conn.exec_driver_sql(f'SET LOCAL search_path TO "{catalog.schema}", public')
            conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
            rows = conn.exec_driver_sql(
                f"EXPLAIN (FORMAT JSON) {compiled}", compiled.params
            ).fetchone()
            conn.rollback()
        return rows[0][0]["Plan"]

    yield plan
    engine.dispose()


@pytest.fixture(scope="module")
def sample(settings, catalog):
    with connect(settings.postgres_url, autocommit=True) as conn:
        return scale_data.sample(conn, catalog, SAMPLE_ID)


#: per filter, sample values few products share (category, brand and model are rare already)
RARE = {
    "source": {"source": scale_data.rarest_source()},
    "availability": {"availability": scale_data.AVAILABILITY[-1]},
    "min_price": {"price": Decimal("995")},
    "max_price": {"price": Decimal("5")},
    "updated_since": {"updated_at": scale_data.EPOCH - timedelta(hours=6)},
}
#: the plan test's cases: every filter and sort; a common search word is the benchmark's alone
PLANNED = [case for case in CASES if case.key != "q_word"]


def guarded(relation: str | None) -> bool:
    """Whether a plan node's relation is one of :data:`GUARDED` or a partition of one."""
    return relation is not None and any(
        relation == table or relation.startswith(f"{table}_") for table in GUARDED
    )


def full_scans(plan: dict, above: tuple[str, ...] = ()) -> list[str]:
    """The nodes of ``plan`` that read a guarded table (or one of its indexes) in full."""
    found = []
    kind, relation = plan["Node Type"], plan.get("Relation Name")
    if guarded(relation):
        where = f"{kind} on {relation}" + (
            f" using {plan['Index Name']}" if "Index Name" in plan else ""
        )
        if kind == "Seq Scan":
            found.append(where)
        elif kind in ("Index Scan", "Index Only Scan") and "Index Cond" not in plan:
            if "Filter" in plan:
                found.append(f"{where}, discarding rows by {plan['Filter']}")
            elif blocking := BLOCKING.intersection(above):
                found.append(f"{where}, read in full for {', '.join(sorted(blocking))}")
    for child in plan.get("Plans", []):
        found += full_scans(child, (*above, kind))
    return found


def statement(case: Case, sample, deep: bool):
    """The SQL the API runs for the case's first (or deep) page."""
    sample = replace(sample, **RARE.get(case.key, {}))
    _, params = case.deep_page(sample) if deep else case.first_page(sample)
    if case is PRICES:
        return service.prices_page(sample.id, PageQuery().load(params)).statement
    return service.products_page(ProductQuery().load(params)).statement


def test_every_documented_filter_and_sort_has_a_case():
    assert covered_filters() == documented()
    assert {case.sort for case in SORTS} == {*PRODUCT_SORTS, *(f"-{s}" for s in PRODUCT_SORTS)}
    assert len(CASES) == len(FILTERS) + len(SORTS) + 1


@pytest.mark.parametrize("deep", [False, True], ids=["first-page", "deep-page"])
@pytest.mark.parametrize("case", PLANNED, ids=[case.key for case in PLANNED])
def test_no_full_scan(explain, sample, case, deep):
    scans = full_scans(explain(statement(case, sample, deep)))
    assert not scans, "full scans: " + "; ".join(scans)


@pytest.fixture(scope="module")
def feed_middle(settings, catalog) -> tuple[int, int]:
    """The change feed position of the catalog's middle price row: a deep page starts there."""
    with connect(settings.postgres_url, autocommit=True) as conn:
        middle = sql.SQL(
            "SELECT txid::text, id FROM {} ORDER BY txid, id OFFSET %s LIMIT 1"
        ).format(sql.Identifier(catalog.schema, "product_prices"))
        txid, row_id = conn.execute(middle, (catalog.prices // 2,)).fetchone()
    return int(txid), row_id


@pytest.mark.parametrize("kinds", [CHANGE_KINDS, ("discontinued",)], ids=["all", "rare"])
@pytest.mark.parametrize("deep", [False, True], ids=["first-page", "deep-page"])
def test_the_change_feed_needs_no_full_scan(explain, feed_middle, deep, kinds):
    position = feed_middle if deep else (0, 0)
    page = changes.page(position, 2**63, kinds, 51)
    scans = full_scans(explain(page))
    assert not scans, "full scans: " + "; ".join(scans)


def test_the_check_sees_a_full_scan(explain, sample):
    # The listing's id order over a filter no index serves: the check must object.
    query = select(products.c.id).where(products.c.url == "nowhere").order_by(products.c.id)
    assert full_scans(explain(query.limit(51)))
