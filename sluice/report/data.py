"""What a crawl report shows, read from PostgreSQL into plain dataclasses.

Where each figure comes from:

- the run itself: its ``crawl_runs`` row (found by crawl id, else by Airflow run id);
- progress: the fetch time of every item of the run still traceable to it:
  ``products.last_seen_at`` of the products whose newest observation is this crawl
  (``last_crawl_id``), ``quotes.fetched_at`` of its quotes (``crawl_id``) — the rows the
  processors count as ``crawl_runs.items_stored`` — and the newest ``product_prices`` row of
  the crawl for products a later crawl has seen since. PostgreSQL keeps no storage time per
  item; an unchanged product or a quote seen again later belongs to the later crawl;
- rejections: ``rejected_items`` of the crawl, by stage and reason;
- HTTP statuses and other counters: the crawl stats JSON (``crawl_runs.stats``);
- price changes: the ``product_prices`` rows of the crawl against each product's observation
  before them; the normalizer adds a price row only when price, currency or availability
  changed, so a product of the crawl without one kept its price;
- quote changes: the crawl's ``quotes`` with the change the source publishes (against the
  previous close).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg

from sluice.storage.postgres import connect

#: the stats counters the summary shows, with what they mean, in this order
KEY_COUNTERS: tuple[tuple[str, str], ...] = (
    ("downloader/response_count", "pages fetched"),
    ("retry/count", "requests retried"),
    ("dupefilter/filtered", "duplicate requests skipped"),
    ("item_scraped_count", "items scraped"),
    ("item_dropped_count", "items dropped by the spider"),
    ("kafka/produced", "items sent to Kafka"),
    ("kafka/delivered", "items delivered to Kafka"),
    ("kafka/delivery_failed", "Kafka deliveries failed"),
    ("kafka/undelivered", "items never delivered to Kafka"),
    ("log_count/ERROR", "errors logged"),
    ("scheduler/lease_lapsed", "requests re-queued after a lost worker"),
    ("queue/purged", "requests left in the queue (purged)"),
)
HTTP_STATUS_PREFIX = "downloader/response_status_count/"
DROP_PREFIX = "drop_item/"
#: at most this many points on the progress curve; a cumulative count loses nothing by
#: skipping points between the ones kept
PROGRESS_POINTS = 400
#: how many crawl runs an ambiguous Airflow run id lists
AMBIGUOUS_SHOWN = 10

UP, DOWN, UNCHANGED = "up", "down", "unchanged"
NEW = "new product"
CURRENCY_CHANGED = "currency changed"
NO_CHANGE_GIVEN = "no change given"


class ReportError(Exception):
    """The report cannot be made; the message says why."""


class RunNotFound(ReportError, LookupError):
    """No crawl run has this id."""

    def __init__(self, run_id: str) -> None:
        super().__init__(
            f"no crawl run {run_id!r} (neither a crawl id nor an Airflow run id in crawl_runs)"
        )
        self.run_id = run_id


class AmbiguousRun(ReportError, LookupError):
    """An Airflow run id shared by several crawl runs."""

    def __init__(self, run_id: str, crawl_ids: list[str]) -> None:
        shown = ", ".join(crawl_ids[:AMBIGUOUS_SHOWN])
        more = "" if len(crawl_ids) <= AMBIGUOUS_SHOWN else ", ..."
        super().__init__(
            f"Airflow run {run_id!r} has several crawl runs ({shown}{more}); "
            "name one by its crawl id"
        )
        self.run_id = run_id
        self.crawl_ids = crawl_ids


@dataclass(frozen=True)
class CrawlRun:
    """One ``crawl_runs`` row."""

    crawl_id: str
    spider: str | None
    airflow_run_id: str | None
    status: str
    params: dict[str, Any]
    stats: dict[str, Any]
    started_at: datetime | None
    finished_at: datetime | None
    items_received: int
    items_stored: int
    items_rejected: int
    updated_at: datetime | None = None

    @property
    def duration(self) -> timedelta | None:
        """Finished minus started; None while either is unknown."""
        if self.started_at is None or self.finished_at is None:
            return None
        return self.finished_at - self.started_at


@dataclass(frozen=True)
class ProgressPoint:
    """``stored`` items of the crawl had been fetched by ``at``."""

    at: datetime
    stored: int


@dataclass(frozen=True)
class ReasonCount:
    """How many of the crawl's messages one stage rejected for one reason."""

    stage: str
    reason: str
    count: int


@dataclass(frozen=True)
class PriceChanges:
    """How prices moved: counts per category (``up``, ``down``, ``unchanged``, ...) and the
    relative change (0.1 = +10 %) of every price that went up or down."""

    subject: str
    counts: dict[str, int]
    relative: list[float] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Every item counted, whatever its category."""
        return sum(self.counts.values())


@dataclass(frozen=True)
class RunReport:
    """Everything the report page shows about one crawl run."""

    run: CrawlRun
    progress: list[ProgressPoint]
    rejections: list[ReasonCount]
    products: PriceChanges
    quotes: PriceChanges


RUN_COLUMNS = (
    "crawl_id, spider, airflow_run_id, status, params, stats, started_at, finished_at, "
    "items_received, items_stored, items_rejected, updated_at"
)
RUN_BY_CRAWL_ID = f"SELECT {RUN_COLUMNS} FROM crawl_runs WHERE crawl_id = %(id)s"  # noqa: S608
RUN_BY_AIRFLOW_RUN_ID = (
    f"SELECT {RUN_COLUMNS} FROM crawl_runs WHERE airflow_run_id = %(id)s "  # noqa: S608
    "ORDER BY started_at NULLS LAST, crawl_id LIMIT %(limit)s"
)

# The items of the crawl by fetch time: the rows crawl_runs.items_stored counts (see
# processors/sql/normalizer.py), plus products a later crawl has taken over but whose price
# rows still name this crawl (at the fetch time of the crawl's last of them).
STORED_BY_SECOND = """
SELECT date_trunc('second', seen) AS at, count(*)
FROM (
    SELECT last_seen_at AS seen FROM products WHERE last_crawl_id = %(c)s
    UNION ALL
    SELECT max(pp.observed_at)
    FROM product_prices pp
    JOIN products p ON p.id = pp.product_id
    WHERE pp.crawl_id = %(c)s AND p.last_crawl_id IS DISTINCT FROM %(c)s
    GROUP BY pp.product_id
    UNION ALL
    SELECT fetched_at FROM quotes WHERE crawl_id = %(c)s
) stored
GROUP BY 1
ORDER BY 1
"""

REJECTIONS = """
SELECT stage, reason, count(*)
FROM rejected_items
WHERE crawl_id = %(c)s
GROUP BY stage, reason
ORDER BY count(*) DESC, stage, reason
"""

# Per product of the crawl: its last price row of the crawl against the row before the
# crawl's first one (a crawl may see a product twice; what counts is where it left it).
PRODUCT_PRICE_PAIRS = """
WITH crawl_rows AS (
    SELECT product_id, min(observed_at) AS first_at, max(observed_at) AS last_at
    FROM product_prices
    WHERE crawl_id = %(c)s
    GROUP BY product_id
)
SELECT now_.price, now_.currency, before.price, before.currency
FROM crawl_rows c
JOIN product_prices now_ ON now_.product_id = c.product_id AND now_.observed_at = c.last_at
LEFT JOIN LATERAL (
    SELECT pp.price, pp.currency
    FROM product_prices pp
    WHERE pp.product_id = c.product_id AND pp.observed_at < c.first_at
    ORDER BY pp.observed_at DESC
    LIMIT 1
) before ON true
"""

# Products whose newest observation is this crawl but that got no price row from it: the
# normalizer found price, currency and availability as they were.
PRODUCTS_WITHOUT_PRICE_ROW = """
SELECT count(*)
FROM products p
WHERE p.last_crawl_id = %(c)s
  AND NOT EXISTS (
      SELECT 1 FROM product_prices pp WHERE pp.product_id = p.id AND pp.crawl_id = %(c)s
  )
"""

QUOTES_OF_CRAWL = "SELECT price, change, change_pct FROM quotes WHERE crawl_id = %(c)s"


def reader(url: str, *, timeout: float = 5.0) -> psycopg.Connection:
    """A read-only connection whose queries all see one snapshot of the database.

    A report's figures are read by several queries while processors may be writing; one
    repeatable-read transaction makes them agree with each other.
    """
    conn = connect(url, timeout=timeout)
    conn.read_only = True
    conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    return conn


def _run(row: tuple) -> CrawlRun:
    (
        crawl_id,
        spider,
        airflow_run_id,
        status,
        params,
        stats,
        started_at,
        finished_at,
        received,
        stored,
        rejected,
        updated_at,
    ) = row
    return CrawlRun(
        crawl_id=crawl_id,
        spider=spider,
        airflow_run_id=airflow_run_id,
        status=status,
        params=dict(params or {}),
        stats=dict(stats or {}),
        started_at=started_at,
        finished_at=finished_at,
        items_received=int(received),
        items_stored=int(stored),
        items_rejected=int(rejected),
        updated_at=updated_at,
    )


def find_run(conn: psycopg.Connection, run_id: str) -> CrawlRun:
    """The crawl run ``run_id`` names: a crawl id, else the Airflow run id of exactly one run.

    Raises :class:`RunNotFound` or, for an Airflow run id of several crawls,
    :class:`AmbiguousRun`.
    """
    row = conn.execute(RUN_BY_CRAWL_ID, {"id": run_id}).fetchone()
    if row is not None:
        return _run(row)
    rows = conn.execute(
        RUN_BY_AIRFLOW_RUN_ID, {"id": run_id, "limit": AMBIGUOUS_SHOWN + 1}
    ).fetchall()
    if not rows:
        raise RunNotFound(run_id)
    if len(rows) > 1:
        raise AmbiguousRun(run_id, [r[0] for r in rows])
    return _run(rows[0])


def cumulative(
    counts: Iterable[tuple[datetime, int]], limit: int = PROGRESS_POINTS
) -> list[ProgressPoint]:
    """Running totals of ``(moment, count)`` pairs sorted by moment, thinned to ``limit``
    points; the first and the last point are always kept."""
    points: list[ProgressPoint] = []
    total = 0
    for at, count in counts:
        total += int(count)
        points.append(ProgressPoint(at, total))
    if len(points) <= limit:
        return points
    step = (len(points) - 1) / (limit - 1)
    return [points[round(i * step)] for i in range(limit)]


def stored_progress(conn: psycopg.Connection, crawl_id: str) -> list[ProgressPoint]:
    """Cumulative items stored by the crawl over their fetch time (to the second); the last
    point is how many items can still be traced to the crawl."""
    return cumulative(conn.execute(STORED_BY_SECOND, {"c": crawl_id}).fetchall())


def rejections_by_reason(conn: psycopg.Connection, crawl_id: str) -> list[ReasonCount]:
    """The crawl's ``rejected_items``, counted by stage and reason, most frequent first."""
    return [
        ReasonCount(stage, reason, int(count))
        for stage, reason, count in conn.execute(REJECTIONS, {"c": crawl_id})
    ]


def classify_product_prices(
    pairs: Iterable[tuple[Decimal, str, Decimal | None, str | None]],
    unchanged_without_row: int = 0,
) -> PriceChanges:
    """Count ``(price, currency, previous price, previous currency)`` pairs as up, down,
    unchanged (e.g. only availability changed), new (no previous) or currency changed.

    ``unchanged_without_row`` adds the products observed without a new price row.
    """
    counts = {UP: 0, DOWN: 0, UNCHANGED: unchanged_without_row, NEW: 0, CURRENCY_CHANGED: 0}
    relative: list[float] = []
    for price, currency, before, before_currency in pairs:
        if before is None:
            counts[NEW] += 1
        elif (currency or "").strip() != (before_currency or "").strip():
            # Prices in two currencies cannot be compared without an exchange rate.
            counts[CURRENCY_CHANGED] += 1
        elif price == before:
            counts[UNCHANGED] += 1
        else:
            counts[UP if price > before else DOWN] += 1
            relative.append(float((price - before) / before))
    return PriceChanges("products", counts, relative)


def classify_quotes(
    quotes: Iterable[tuple[Decimal, Decimal | None, Decimal | None]],
) -> PriceChanges:
    """Count ``(price, change, change_pct)`` quotes by the change their source published
    (against the previous close): up, down, unchanged, or no change given."""
    counts = {UP: 0, DOWN: 0, UNCHANGED: 0, NO_CHANGE_GIVEN: 0}
    relative: list[float] = []
    for price, change, change_pct in quotes:
        sign = change if change is not None else change_pct
        if sign is None:
            counts[NO_CHANGE_GIVEN] += 1
            continue
        if sign == 0:
            counts[UNCHANGED] += 1
            continue
        counts[UP if sign > 0 else DOWN] += 1
        if change_pct is not None:
            relative.append(float(change_pct) / 100)
        elif price != change:
            relative.append(float(change / (price - change)))
    return PriceChanges("quotes", counts, relative)


def product_price_changes(conn: psycopg.Connection, crawl_id: str) -> PriceChanges:
    """How the prices of the crawl's products moved against their previous observation."""
    pairs = conn.execute(PRODUCT_PRICE_PAIRS, {"c": crawl_id}).fetchall()
    (without_row,) = conn.execute(PRODUCTS_WITHOUT_PRICE_ROW, {"c": crawl_id}).fetchone()
    return classify_product_prices(pairs, int(without_row))


def quote_changes(conn: psycopg.Connection, crawl_id: str) -> PriceChanges:
    """How the crawl's quotes moved, by the change their source published."""
    return classify_quotes(conn.execute(QUOTES_OF_CRAWL, {"c": crawl_id}).fetchall())


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def counters(stats: Mapping[str, Any], prefix: str) -> list[tuple[str, int]]:
    """The whole-number stats under ``prefix``, by name without it, sorted by name."""
    found = []
    for name, value in stats.items():
        number = _int(value)
        if name.startswith(prefix) and number is not None:
            found.append((name[len(prefix) :], number))
    return sorted(found)


def http_status_counts(stats: Mapping[str, Any]) -> list[tuple[str, int]]:
    """Responses per HTTP status (``downloader/response_status_count/<code>``), by code."""
    return counters(stats, HTTP_STATUS_PREFIX)


def drop_counts(stats: Mapping[str, Any]) -> list[tuple[str, int]]:
    """Items the spider dropped before Kafka (``drop_item/<spider>/<reason>``), by reason."""
    by_reason: dict[str, int] = {}
    for name, count in counters(stats, DROP_PREFIX):
        reason = name.split("/", 1)[-1]
        by_reason[reason] = by_reason.get(reason, 0) + count
    return sorted(by_reason.items())


def key_counters(stats: Mapping[str, Any]) -> list[tuple[str, str, Any]]:
    """``(stat name, meaning, value)`` of the :data:`KEY_COUNTERS` the stats hold."""
    return [(name, meaning, stats[name]) for name, meaning in KEY_COUNTERS if name in stats]


def load_report(conn: psycopg.Connection, run_id: str) -> RunReport:
    """Everything about run ``run_id`` (crawl id or Airflow run id) that the page shows."""
    run = find_run(conn, run_id)
    crawl_id = run.crawl_id
    return RunReport(
        run=run,
        progress=stored_progress(conn, crawl_id),
        rejections=rejections_by_reason(conn, crawl_id),
        products=product_price_changes(conn, crawl_id),
        quotes=quote_changes(conn, crawl_id),
    )
