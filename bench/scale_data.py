"""A synthetic catalog of any size in a scratch schema: ``products`` and ``product_prices``
shaped as the real tables, with the real tables' indexes, filled by the server itself.

Generation is one ``INSERT … SELECT generate_series`` per chunk, so no row crosses the
network; the tables are UNLOGGED (no WAL: they are scratch and dropped afterwards) and get
their indexes after the load, copied from ``public`` so they are exactly the schema's own.
Every value is a function of the row number (no ``random()``), so two catalogs of one size are
the same and a benchmark can tell which rows a filter matches without asking.

The schema is named ``bench_scale_<products>``; it never mixes with real data, and
:func:`drop` removes all of it at once (``DROP SCHEMA … CASCADE``), which deleting a hundred
million rows from ``public`` could never match.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg
from psycopg import sql

from bench.scale_cases import Sample
from sluice.schemas.normalize import AVAILABILITY

log = logging.getLogger(__name__)

SCHEMA_PREFIX = "bench_scale_"
#: the tables copied, parent first
TABLES = ("products", "product_prices")
#: rows per INSERT: large enough to amortise a statement, small enough to report progress
CHUNK = 1_000_000
#: the newest moment of the catalog; times spread back two years from it
EPOCH = datetime(2026, 11, 1, tzinfo=UTC)
SOURCES = 10
CATEGORIES = 500
BRANDS = 5_000
#: model numbers ("M12345") repeat every MODELS products: a rare word to search for
MODELS = 100_000
ADJECTIVES = ("Steel", "Oak", "Compact", "Deluxe", "Classic", "Smart", "Mini", "Pro")
NOUNS = ("Chair", "Lamp", "Kettle", "Drill", "Speaker", "Backpack", "Blender", "Desk", "Tent")
#: seconds in the two years the times spread over
SPREAD = 2 * 365 * 24 * 3600


@dataclass(frozen=True)
class Size:
    """How many products and price rows per product a catalog holds."""

    products: int
    prices_per_product: int = 10
    #: names the schema instead of the size (a test's catalog of its own)
    tag: str = ""

    @property
    def prices(self) -> int:
        """Price rows in all."""
        return self.products * self.prices_per_product

    @property
    def schema(self) -> str:
        """The scratch schema of a catalog of this size."""
        return f"{SCHEMA_PREFIX}{self.tag or f'{self.products}x{self.prices_per_product}'}"

    @property
    def label(self) -> str:
        """``10,000,000 products, 100,000,000 price rows``."""
        return f"{self.products:,} products, {self.prices:,} price rows"


def scaled(products: int, scale: float, floor: int = 10_000) -> int:
    """Products at a harness scale (``make bench BENCH_SCALE=0.05``), never below ``floor``."""
    return max(floor, int(products * scale))


def chunks(total: int, size: int = CHUNK) -> list[tuple[int, int]]:
    """``[(first, last), …]`` row numbers from 1 to ``total`` in runs of ``size``."""
    return [(first, min(total, first + size - 1)) for first in range(1, total + 1, size)]


def rebind_index(indexdef: str, schema: str) -> str:
    """``CREATE [UNIQUE] INDEX name ON public.t …`` (as ``pg_indexes`` shows it) made for the
    same table in ``schema``."""
    rebound, found = re.subn(r" ON (?:ONLY )?public\.", f' ON "{schema}".', indexdef, count=1)
    if not found:
        raise ValueError(f"not an index of a table in public: {indexdef!r}")
    return rebound


# Sources and availabilities take shares that halve from one value to the next (50%, 25%,
# ...; the last takes the rest), as real catalogs have a big source and small ones, mostly
# in-stock products and a few discontinued: value k for h in [1 - 2^-k, 1 - 2^-(k+1)) x 10^6.
# Deterministic spreads: multiplying by a large odd number modulo a range scatters
# consecutive row numbers over it, so neighbouring ids do not share a price or a time.
PRODUCTS_INSERT = """
INSERT INTO {products} (id, source, external_id, name, brand, category, price, currency,
                        availability, rating, review_count, url, first_seen_at, last_seen_at,
                        last_crawl_id, updated_at)
SELECT n,
       'scale-' || src.k || '.localhost',
       'SKU-' || n,
       (%(adjectives)s::text[])[1 + n %% %(n_adjectives)s] || ' '
           || (%(nouns)s::text[])[1 + (n / %(n_adjectives)s) %% %(n_nouns)s]
           || ' M' || (n %% %(models)s),
       'brand-' || ((n * 7919) %% %(brands)s),
       'category-' || ((n * 104729) %% %(categories)s),
       1 + ((n * 40503) %% 99900) / 100.0,
       'USD',
       (%(availability)s::text[])[1 + avail.k],
       ((n * 13) %% 501) / 100.0,
       (n * 17) %% 5000,
       'http://scale-' || src.k || '.localhost/p/' || n,
       t - interval '30 days', t, 'scale', t
FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS n,
     LATERAL (SELECT %(epoch)s::timestamptz
                     - ((n * 2654435761) %% %(spread)s) * interval '1 second' AS t) AS times,
     LATERAL (SELECT least(%(sources)s - 1,
                           floor(ln(1e6 / (1e6 - (n * 2246822519) %% 1000000)::float8)
                                 / ln(2))::int) AS k) AS src,
     LATERAL (SELECT least(%(n_availability)s - 1,
                           floor(ln(1e6 / (1e6 - (n * 3266489917) %% 1000000)::float8)
                                 / ln(2))::int) AS k) AS avail
"""

PRICES_INSERT = """
INSERT INTO {prices} (id, product_id, price, currency, availability, observed_at, crawl_id)
SELECT g,
       1 + (g - 1) / %(per)s,
       1 + ((g * 40503) %% 99900) / 100.0,
       'USD',
       (%(availability)s::text[])[1 + (g * 31) %% %(n_availability)s],
       %(epoch)s::timestamptz - ((g - 1) %% %(per)s) * interval '1 day',
       'scale'
FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS g
"""


def rarest_source() -> str:
    """The smallest source of a catalog (about 0.2% of its products)."""
    return f"scale-{SOURCES - 1}.localhost"


def price_ids(product_id: int, size: Size) -> range:
    """The ids of one product's price rows, oldest last (the order PRICES_INSERT gives)."""
    first = (product_id - 1) * size.prices_per_product + 1
    return range(first, first + size.prices_per_product)


def sample(conn: psycopg.Connection, size: Size, product_id: int) -> Sample:
    """Product ``product_id`` of the catalog as a :class:`bench.scale_cases.Sample`, with its
    middle price row."""
    row = conn.execute(
        sql.SQL(
            "SELECT id, source, category, brand, availability, price, name, updated_at "
            "FROM {} WHERE id = %s"
        ).format(sql.Identifier(size.schema, "products")),
        (product_id,),
    ).fetchone()
    if row is None:
        raise LookupError(f"no product {product_id} in {size.schema}")
    ids = price_ids(product_id, size)
    return Sample(*row, price_id=ids[len(ids) // 2])


def exists(conn: psycopg.Connection, size: Size) -> bool:
    """Whether a complete catalog of ``size`` is there (kept by an earlier run)."""
    row = conn.execute(
        "SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname = %s",
        (size.schema,),
    ).fetchone()
    return row is not None and row[0] == _complete(size)


def _complete(size: Size) -> str:
    return f"complete: {size.label}"


def drop(conn: psycopg.Connection, schema: str) -> None:
    """Remove a scratch catalog and everything in it."""
    if not schema.startswith(SCHEMA_PREFIX):
        raise ValueError(f"{schema!r} is not a scratch catalog schema")
    conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def generate(
    conn: psycopg.Connection,
    size: Size,
    reader: str | None = None,
    progress: Callable[[str], None] = log.info,
) -> float:
    """Create the catalog of ``size`` afresh (autocommit ``conn`` as the schema owner):
    tables, rows, ``public``'s indexes, statistics; ``reader`` (a role) may read it.
    Returns the seconds it took."""
    began = time.monotonic()
    schema = sql.Identifier(size.schema)
    drop(conn, size.schema)
    conn.execute(sql.SQL("CREATE SCHEMA {}").format(schema))
    for table in TABLES:
        # Columns, defaults and checks, not the indexes: those come after the load.
        conn.execute(
            sql.SQL(
                "CREATE UNLOGGED TABLE {} (LIKE public.{} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
            ).format(sql.Identifier(size.schema, table), sql.Identifier(table))
        )
    _fill(conn, size, progress)
    _index(conn, size, progress)
    for table in TABLES:
        conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(size.schema, table)))
    if reader:
        conn.execute(
            sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema, sql.Identifier(reader))
        )
        conn.execute(
            sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(
                schema, sql.Identifier(reader)
            )
        )
    conn.execute(sql.SQL("COMMENT ON SCHEMA {} IS {}").format(schema, sql.Literal(_complete(size))))
    return time.monotonic() - began


def _values(first: int, last: int, size: Size) -> dict:
    return {
        "first": first,
        "last": last,
        "sources": SOURCES,
        "categories": CATEGORIES,
        "brands": BRANDS,
        "models": MODELS,
        "adjectives": list(ADJECTIVES),
        "n_adjectives": len(ADJECTIVES),
        "nouns": list(NOUNS),
        "n_nouns": len(NOUNS),
        "availability": list(AVAILABILITY),
        "n_availability": len(AVAILABILITY),
        "epoch": EPOCH,
        "spread": SPREAD,
        "per": size.prices_per_product,
    }


def _fill(conn: psycopg.Connection, size: Size, progress: Callable[[str], None]) -> None:
    products = sql.SQL(PRODUCTS_INSERT).format(products=sql.Identifier(size.schema, "products"))
    prices = sql.SQL(PRICES_INSERT).format(prices=sql.Identifier(size.schema, "product_prices"))
    for statement, total, what in (
        (products, size.products, "products"),
        (prices, size.prices, "price rows"),
    ):
        began = time.monotonic()
        for first, last in chunks(total):
            conn.execute(statement, _values(first, last, size))
            elapsed = time.monotonic() - began
            progress(f"{what}: {last:,} of {total:,} ({last / elapsed:,.0f} rows/s)")


def _index(conn: psycopg.Connection, size: Size, progress: Callable[[str], None]) -> None:
    # A sort in memory builds an index several times faster than one that spills.
    conn.execute("SET maintenance_work_mem = '512MB'")
    for table in TABLES:
        definitions = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes "
            "WHERE schemaname = 'public' AND tablename = %s ORDER BY indexname",
            (table,),
        ).fetchall()
        for name, indexdef in definitions:
            began = time.monotonic()
            conn.execute(rebind_index(indexdef, size.schema))
            progress(f"index {name}: {time.monotonic() - began:,.1f} s")


def lower_priority(conn: psycopg.Connection) -> None:
    """Run this connection's server process at the lowest CPU priority, when the server is on
    this machine and ours to renice: generation is background work on a shared machine."""
    if conn.info.host not in ("127.0.0.1", "localhost", "::1") and not conn.info.host.startswith(
        "/"
    ):
        return
    try:
        os.setpriority(os.PRIO_PROCESS, conn.info.backend_pid, 19)
    except OSError as exc:  # another user's server: it runs at its own priority
        log.info("cannot lower the generating server process's priority: %s", exc)
