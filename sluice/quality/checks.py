"""The data-quality checks as SQL over products, product_prices, quotes and crawl_runs.

Every check groups by source (or spider) so one run judges each site on its own, and every
query can be narrowed to some sources, spiders or one crawl: the shared database holds many
sites, and a crawl's DAG checks only what that crawl stored. Tables are named without a
schema, so the checks read whatever ``products`` & co. the connection's search_path finds.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql
from psycopg.pq import TransactionStatus
from psycopg.types.json import Jsonb

from sluice.crawl.runs import LAST_FINISHED
from sluice.quality import rules
from sluice.quality.results import CHECK_NAMES, CheckResult, Thresholds, summary
from sluice.schemas.currencies import ISO_4217

log = logging.getLogger(__name__)

# UTC text of a timestamp, whatever the session's TimeZone is.
_UTC_TEXT = "to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"


@dataclass(frozen=True)
class _Table:
    """How the checks read one table: its FROM clause and the expressions they need."""

    name: str
    from_clause: str
    alias: str
    source: str  # the row's source
    crawl: str  # the crawl that stored the row
    key: str  # what names a row in examples
    dup_key: str | None = None  # the natural key, case and whitespace folded
    dup_raw: str | None = None  # the natural key as stored
    dup_label: str = ""
    updated: str | None = None
    fetched: str | None = None


PRODUCTS = _Table(
    name="products",
    from_clause="products p",
    alias="p",
    source="p.source",
    crawl="p.last_crawl_id",
    key="p.external_id",
    dup_key=r"lower(btrim(regexp_replace(p.external_id, '\s+', ' ', 'g')))",
    dup_raw="p.external_id",
    dup_label="external_id",
    updated="p.updated_at",
    fetched="p.last_seen_at",
)
PRODUCT_PRICES = _Table(
    name="product_prices",
    from_clause="product_prices pp JOIN products p ON p.id = pp.product_id",
    alias="pp",
    source="p.source",
    crawl="pp.crawl_id",
    key="p.external_id || ' @ ' || " + _UTC_TEXT.format("pp.observed_at"),
)
QUOTES = _Table(
    name="quotes",
    from_clause="quotes q",
    alias="q",
    source="q.source",
    crawl="q.crawl_id",
    key="q.symbol || ' @ ' || " + _UTC_TEXT.format("q.as_of"),
    dup_key=r"upper(btrim(regexp_replace(q.symbol, '\s+', ' ', 'g'))) || ' @ ' || "
    + _UTC_TEXT.format("q.as_of"),
    dup_raw="q.symbol || ' @ ' || " + _UTC_TEXT.format("q.as_of"),
    dup_label="(symbol, as_of)",
    updated="q.updated_at",
    fetched="q.fetched_at",
)
_NULL_RATE_TABLES = {"products": PRODUCTS, "quotes": QUOTES}


@dataclass(frozen=True)
class _Filters:
    sources: list[str] | None
    spiders: list[str] | None
    crawl_id: str | None

    def params(self) -> dict[str, Any]:
        return {"sources": self.sources, "spiders": self.spiders, "crawl_id": self.crawl_id}

    def where(self, table: _Table) -> sql.Composable:
        """The row filter of ``table``: every given filter applies (AND)."""
        conditions: list[sql.Composable] = []
        if self.sources is not None:
            conditions.append(
                sql.SQL("{} = ANY(%(sources)s::text[])").format(sql.SQL(table.source))
            )
        if self.spiders is not None:
            conditions.append(
                sql.SQL(
                    "{} IN (SELECT crawl_id FROM crawl_runs"
                    " WHERE spider = ANY(%(spiders)s::text[]))"
                ).format(sql.SQL(table.crawl))
            )
        if self.crawl_id is not None:
            conditions.append(sql.SQL("{} = %(crawl_id)s::text").format(sql.SQL(table.crawl)))
        return sql.SQL(" AND ").join(conditions) if conditions else sql.SQL("TRUE")


def _names(value: Sequence[str] | None, what: str) -> list[str] | None:
    # A lone string is a Sequence too; iterating it would check one-letter sources.
    if value is None:
        return None
    if isinstance(value, str | bytes):
        raise TypeError(f"{what} must be a list of names, not the string {value!r}")
    return sorted(set(value))


def run_checks(
    conn: psycopg.Connection,
    run_id: str,
    *,
    sources: Sequence[str] | None = None,
    spiders: Sequence[str] | None = None,
    crawl_id: str | None = None,
    thresholds: Thresholds | None = None,
    checks: Collection[str] | None = None,
) -> list[CheckResult]:
    """Run the data-quality checks and return one result per check and scope.

    ``sources``, ``spiders`` and ``crawl_id`` narrow the rows checked (all given filters
    apply; ``None`` means no filter): products/quotes of those sources, stored by crawls of
    those spiders, or stored by that crawl. ``row_count_vs_previous`` compares the newest
    finished run of each spider in scope (or the run ``crawl_id``, finished or not) with the
    previous finished run of its spider. ``checks`` picks a subset of :data:`CHECK_NAMES`.

    The checks only read. They run in one transaction: a repeatable-read snapshot when the
    connection is idle, so every check sees the same data; inside a transaction the caller
    opened, they run in a savepoint of it. ``run_id`` names the run in the log; pass the same
    id to :func:`record`.
    """
    thresholds = thresholds or Thresholds()
    wanted = list(CHECK_NAMES) if checks is None else list(dict.fromkeys(checks))
    unknown = [c for c in wanted if c not in CHECK_NAMES]
    if unknown:
        raise ValueError(f"unknown checks {unknown}; choose from {', '.join(CHECK_NAMES)}")
    filters = _Filters(_names(sources, "sources"), _names(spiders, "spiders"), crawl_id)

    results: list[CheckResult] = []
    with _read_snapshot(conn):
        spider_names = (
            _spiders_in_scope(conn, filters)
            if {"row_count_vs_previous", "freshness"} & set(wanted)
            else []
        )
        for name in wanted:
            if name == "row_count_vs_previous":
                results += _row_count_vs_previous(conn, filters, spider_names, thresholds)
            elif name == "null_rate":
                results += _null_rates(conn, filters, thresholds)
            elif name == "positive_prices":
                results += _positive_prices(conn, filters, thresholds)
            elif name == "iso_currency":
                results += _iso_currencies(conn, filters, thresholds)
            elif name == "duplicates":
                results += _duplicates(conn, filters, thresholds)
            elif name == "freshness":
                results += _freshness(conn, filters, spider_names, thresholds)
    failed = sum(not r.passed for r in results)
    log.info("data-quality run %s: %d checks, %d failed", run_id, len(results), failed)
    if failed:
        log.warning("data-quality run %s:\n%s", run_id, summary(results))
    return results


UPSERT_RESULT = """
INSERT INTO dq_results (run_id, check_name, scope, passed, observed, threshold, details)
VALUES (%s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (run_id, check_name, scope) DO UPDATE SET
    passed = EXCLUDED.passed, observed = EXCLUDED.observed, threshold = EXCLUDED.threshold,
    details = EXCLUDED.details, checked_at = now()
"""


def record(conn: psycopg.Connection, run_id: str, results: Iterable[CheckResult]) -> int:
    """Upsert ``results`` into ``dq_results`` under ``run_id``; return how many were written.

    A retried task overwrites its earlier result for the same check and scope. The rows are
    written in one transaction, committed here when the connection was idle (or a savepoint
    of the caller's open transaction, which the caller then commits).
    """
    if not run_id or not isinstance(run_id, str):
        raise ValueError(f"run_id must be a non-empty string, not {run_id!r}")
    rows = [
        (
            run_id,
            r.check_name,
            r.scope,
            r.passed,
            r.observed,
            r.threshold,
            Jsonb({**r.details, "message": r.message}),
        )
        for r in results
    ]
    if not rows:
        return 0
    with conn.transaction(), conn.cursor() as cur:
        cur.executemany(UPSERT_RESULT, rows)
    return len(rows)


@contextmanager
def _read_snapshot(conn: psycopg.Connection) -> Iterator[None]:
    idle = conn.info.transaction_status == TransactionStatus.IDLE
    with conn.transaction():
        if idle:
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def _fetch(conn: psycopg.Connection, query: sql.Composable, params: dict[str, Any]) -> list[tuple]:
    try:
        return conn.execute(query, params).fetchall()
    except psycopg.Error as exc:
        # Keep the error's type (callers may retry on OperationalError) but say which
        # query failed: the SQL error alone rarely tells which check it came from.
        exc.add_note(f"in the data-quality query:\n{query.as_string(conn).strip()[:1000]}")
        raise


def _spiders_in_scope(conn: psycopg.Connection, filters: _Filters) -> list[str]:
    if filters.spiders is not None:
        return filters.spiders
    if filters.crawl_id is not None:
        query = sql.SQL(
            "SELECT spider FROM crawl_runs WHERE crawl_id = %(crawl_id)s::text"
            " AND spider IS NOT NULL"
        )
    elif filters.sources is not None:
        # The spiders that stored rows of these sources.
        query = sql.SQL(
            "SELECT DISTINCT spider FROM crawl_runs WHERE spider IS NOT NULL AND ("
            " crawl_id IN (SELECT last_crawl_id FROM products"
            "  WHERE source = ANY(%(sources)s::text[]))"
            " OR crawl_id IN (SELECT crawl_id FROM quotes"
            "  WHERE source = ANY(%(sources)s::text[])))"
            " ORDER BY 1"
        )
    else:
        query = sql.SQL(
            "SELECT DISTINCT spider FROM crawl_runs WHERE spider IS NOT NULL ORDER BY 1"
        )
    return [row[0] for row in _fetch(conn, query, filters.params())]


ROW_COUNTS = """
WITH runs AS (
    SELECT crawl_id, spider, status, items_stored,
           coalesce(started_at, finished_at, updated_at) AS t
    FROM crawl_runs
    WHERE spider = ANY(%(spiders)s::text[])
), current_run AS (
    SELECT DISTINCT ON (spider) * FROM runs
    WHERE CASE WHEN %(crawl_id)s::text IS NULL THEN status = 'finished'
               ELSE crawl_id = %(crawl_id)s::text END
    ORDER BY spider, t DESC, crawl_id DESC
)
SELECT c.spider, c.crawl_id, c.items_stored, c.status, c.t,
       prev.crawl_id, prev.items_stored, prev.status, prev.t
FROM current_run c
LEFT JOIN LATERAL (
    SELECT r.crawl_id, r.items_stored, r.status, r.t FROM runs r
    WHERE r.spider = c.spider AND r.status = 'finished' AND (r.t, r.crawl_id) < (c.t, c.crawl_id)
    ORDER BY r.t DESC, r.crawl_id DESC
    LIMIT 1
) prev ON true
ORDER BY c.spider
"""


def _row_count_vs_previous(
    conn: psycopg.Connection, filters: _Filters, spiders: list[str], thresholds: Thresholds
) -> list[CheckResult]:
    found = {
        row[0]: (
            rules.RunCount(row[1], row[2], row[3], row[4]),
            rules.RunCount(row[5], row[6], row[7], row[8]) if row[5] is not None else None,
        )
        for row in _fetch(
            conn,
            sql.SQL(ROW_COUNTS),
            {"spiders": spiders, "crawl_id": filters.crawl_id},
        )
    }
    if filters.crawl_id is not None and not found:
        # The requested run is missing (or has no spider): say so rather than pass quietly.
        return [
            rules.row_count_vs_previous(
                None, None, None, thresholds.max_row_drop, requested_crawl_id=filters.crawl_id
            )
        ]
    names = sorted(found) if filters.crawl_id is not None else spiders
    return [
        rules.row_count_vs_previous(
            spider, *found.get(spider, (None, None)), thresholds.max_row_drop
        )
        for spider in names
    ]


def _missing(column: sql.Composable) -> sql.Composable:
    return sql.SQL("({col} IS NULL OR btrim({col}::text) = '')").format(col=column)


def _null_rates(
    conn: psycopg.Connection, filters: _Filters, thresholds: Thresholds
) -> list[CheckResult]:
    results: list[CheckResult] = []
    for table_name, columns in thresholds.null_rate_columns().items():
        table = _NULL_RATE_TABLES[table_name]
        key = sql.SQL(table.key)
        measures = []
        for column, _ in columns:
            missing = _missing(sql.Identifier(table.alias, column))
            measures.append(
                sql.SQL(
                    "count(*) FILTER (WHERE {m}), "
                    "(array_agg({key} ORDER BY {key}) FILTER (WHERE {m}))[1:3]"
                ).format(m=missing, key=key)
            )
        query = sql.SQL(
            "SELECT {source}, count(*), {measures} FROM {from_} WHERE {where} GROUP BY 1 ORDER BY 1"
        ).format(
            source=sql.SQL(table.source),
            measures=sql.SQL(", ").join(measures),
            from_=sql.SQL(table.from_clause),
            where=filters.where(table),
        )
        for row in _fetch(conn, query, filters.params()):
            source, rows = row[0], row[1]
            for i, (column, max_rate) in enumerate(columns):
                missing, examples = row[2 + 2 * i], row[3 + 2 * i]
                results.append(
                    rules.null_rate(table.name, column, source, rows, missing, max_rate, examples)
                )
    return results


def _positive_prices(
    conn: psycopg.Connection, filters: _Filters, thresholds: Thresholds
) -> list[CheckResult]:
    results: list[CheckResult] = []
    for table in (PRODUCTS, PRODUCT_PRICES, QUOTES):
        price = sql.Identifier(table.alias, "price")
        bad = sql.SQL("({price} IS NULL OR {price} <= 0)").format(price=price)
        query = sql.SQL(
            "SELECT {source}, count(*), count(*) FILTER (WHERE {bad}), "
            "(array_agg({key} || ': ' || coalesce({price}::text, 'NULL') ORDER BY {key})"
            " FILTER (WHERE {bad}))[1:5] "
            "FROM {from_} WHERE {where} GROUP BY 1 ORDER BY 1"
        ).format(
            source=sql.SQL(table.source),
            bad=bad,
            key=sql.SQL(table.key),
            price=price,
            from_=sql.SQL(table.from_clause),
            where=filters.where(table),
        )
        for source, rows, bad_rows, examples in _fetch(conn, query, filters.params()):
            results.append(
                rules.positive_prices(
                    table.name, source, rows, bad_rows, thresholds.max_bad_prices, examples
                )
            )
    return results


def _iso_currencies(
    conn: psycopg.Connection, filters: _Filters, thresholds: Thresholds
) -> list[CheckResult]:
    results: list[CheckResult] = []
    for table in (PRODUCTS, PRODUCT_PRICES, QUOTES):
        # A handful of currencies per source: group here, judge against ISO 4217 in Python.
        query = sql.SQL(
            "SELECT {source}, {currency}::text, count(*), min({key}) "
            "FROM {from_} WHERE {where} GROUP BY 1, 2 ORDER BY 1, 2"
        ).format(
            source=sql.SQL(table.source),
            currency=sql.Identifier(table.alias, "currency"),
            key=sql.SQL(table.key),
            from_=sql.SQL(table.from_clause),
            where=filters.where(table),
        )
        counts: dict[str, dict[str | None, int]] = {}
        examples: dict[str, dict[str | None, str]] = {}
        for source, currency, rows, example in _fetch(conn, query, filters.params()):
            counts.setdefault(source, {})[currency] = rows
            if currency not in ISO_4217:
                examples.setdefault(source, {})[currency] = example
        for source in sorted(counts):
            results.append(
                rules.iso_currency(
                    table.name,
                    source,
                    counts[source],
                    thresholds.max_bad_currencies,
                    examples.get(source),
                )
            )
    return results


DUPLICATES = """
WITH k AS (
    SELECT {source} AS source, {dup_key} AS norm, {dup_raw} AS raw
    FROM {from_} WHERE {where}
), g AS (
    SELECT source, norm, count(*) AS n, array_agg(raw ORDER BY raw) AS variants
    FROM k GROUP BY source, norm
), s AS (
    SELECT source, sum(n)::bigint AS rows, count(*) FILTER (WHERE n > 1) AS groups,
           coalesce(sum(n - 1) FILTER (WHERE n > 1), 0)::bigint AS extra
    FROM g GROUP BY source
), e AS (
    SELECT source, variants, row_number() OVER (PARTITION BY source ORDER BY norm) AS i
    FROM g WHERE n > 1
)
SELECT s.source, s.rows, s.groups, s.extra,
       coalesce((SELECT jsonb_agg(to_jsonb(e.variants) ORDER BY e.i) FROM e
                 WHERE e.source = s.source AND e.i <= 3), '[]'::jsonb)
FROM s ORDER BY s.source
"""


def _duplicates(
    conn: psycopg.Connection, filters: _Filters, thresholds: Thresholds
) -> list[CheckResult]:
    results: list[CheckResult] = []
    for table in (PRODUCTS, QUOTES):
        if not (table.dup_key and table.dup_raw):
            continue
        query = sql.SQL(DUPLICATES).format(
            source=sql.SQL(table.source),
            dup_key=sql.SQL(table.dup_key),
            dup_raw=sql.SQL(table.dup_raw),
            from_=sql.SQL(table.from_clause),
            where=filters.where(table),
        )
        for source, rows, groups, extra, examples in _fetch(conn, query, filters.params()):
            results.append(
                rules.duplicates(
                    table.name,
                    source,
                    table.dup_label,
                    rows,
                    groups,
                    extra,
                    thresholds.max_duplicates,
                    examples,
                )
            )
    return results


def _freshness(
    conn: psycopg.Connection, filters: _Filters, spiders: list[str], thresholds: Thresholds
) -> list[CheckResult]:
    results: list[CheckResult] = []
    seen: set[str] = set()
    for table in (PRODUCTS, QUOTES):
        # updated_at is set by the database when a row is stored: the crawlers' clocks
        # (fetched_at) do not decide whether the pipeline is delivering.
        query = sql.SQL(
            "SELECT {source}, max({updated}), max({fetched}), "
            "extract(epoch FROM now() - max({updated})) / 3600 "
            "FROM {from_} WHERE {where} GROUP BY 1 ORDER BY 1"
        ).format(
            source=sql.SQL(table.source),
            updated=sql.SQL(table.updated or ""),
            fetched=sql.SQL(table.fetched or ""),
            from_=sql.SQL(table.from_clause),
            where=filters.where(table),
        )
        for source, newest, fetched, age in _fetch(conn, query, filters.params()):
            seen.add(source)
            results.append(
                rules.source_freshness(
                    table.name,
                    source,
                    newest,
                    float(age) if age is not None else None,
                    thresholds.max_age_hours,
                    fetched,
                )
            )
    for source in filters.sources or []:
        if source not in seen:
            results.append(rules.missing_source(source, thresholds.max_age_hours))
    if spiders:
        for spider, finished_at, age in _fetch(conn, sql.SQL(LAST_FINISHED), {"spiders": spiders}):
            results.append(
                rules.spider_freshness(
                    spider,
                    finished_at,
                    float(age) if age is not None else None,
                    thresholds.max_age_hours,
                )
            )
    return results
