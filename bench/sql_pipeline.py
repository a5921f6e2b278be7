"""The raw SQL pipeline the normalizer is measured against: the least a hand-written loop
must do to store the same messages with the same guarantees (idempotent, history kept).

Per batch: COPY the decoded rows into a session-local staging table, then one
``INSERT … ON CONFLICT`` into a copy of ``products`` and one history insert into a copy of
``product_prices`` from it, in one transaction. No validation, no rejection bookkeeping, no
crawl-run counts, no change detection: what is left is the cost of the writes themselves.
The copies have the real tables' columns, constraints and indexes, so both pay the same index
maintenance.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import psycopg

from bench.backlog import ROW_COLUMNS


@dataclass(frozen=True)
class Tables:
    """The scratch copies of ``products`` and ``product_prices`` one run writes into."""

    products: str
    prices: str

    @classmethod
    def fresh(cls) -> Tables:
        """Names nobody uses yet."""
        suffix = uuid.uuid4().hex[:8]
        return cls(f"bench_products_{suffix}", f"bench_prices_{suffix}")


def create(conn: psycopg.Connection, tables: Tables) -> None:
    """Create the copies (columns, defaults, checks, indexes; the history's foreign key)."""
    conn.execute(f"CREATE TABLE {tables.products} (LIKE products INCLUDING ALL)")
    conn.execute(
        f"CREATE TABLE {tables.prices} (LIKE product_prices INCLUDING ALL, "
        f"FOREIGN KEY (product_id) REFERENCES {tables.products} (id) ON DELETE CASCADE)"
    )


def drop(conn: psycopg.Connection, tables: Tables) -> None:
    """Drop the copies."""
    conn.execute(f"DROP TABLE IF EXISTS {tables.prices}, {tables.products}")


def write_batch(conn: psycopg.Connection, tables: Tables, rows: list[tuple]) -> None:
    """Store one batch of rows (columns as ``ROW_COLUMNS``) in one transaction."""
    with conn.transaction():
        conn.execute(
            "CREATE TEMP TABLE IF NOT EXISTS bench_staging (source text, external_id text, "
            "name text, brand text, category text, price numeric, currency text, "
            "availability text, rating numeric, review_count integer, image_url text, url text, "
            "fetched_at timestamptz, crawl_id text) ON COMMIT DELETE ROWS"
        )
        with conn.cursor() as cur, cur.copy(f"COPY bench_staging ({ROW_COLUMNS}) FROM STDIN") as cp:
            for row in rows:
                cp.write_row(row)
        # ON CONFLICT may touch a row once per statement: keep each product's newest observation.
        conn.execute(
            f"""
            INSERT INTO {tables.products} AS p (
                source, external_id, name, brand, category, price, currency, availability,
                rating, review_count, image_url, url, first_seen_at, last_seen_at, last_crawl_id
            )
            SELECT DISTINCT ON (source, external_id)
                source, external_id, name, brand, category, price, currency, availability,
                rating, review_count, image_url, url, fetched_at, fetched_at, crawl_id
            FROM bench_staging
            ORDER BY source, external_id, fetched_at DESC
            ON CONFLICT (source, external_id) DO UPDATE SET
                name = EXCLUDED.name, brand = EXCLUDED.brand, category = EXCLUDED.category,
                price = EXCLUDED.price, currency = EXCLUDED.currency,
                availability = EXCLUDED.availability, rating = EXCLUDED.rating,
                review_count = EXCLUDED.review_count, image_url = EXCLUDED.image_url,
                url = EXCLUDED.url, last_seen_at = EXCLUDED.last_seen_at,
                last_crawl_id = EXCLUDED.last_crawl_id, updated_at = now()
            WHERE p.last_seen_at < EXCLUDED.last_seen_at
            """  # noqa: S608 - table names are generated, never input
        )
        conn.execute(
            f"""
            INSERT INTO {tables.prices}
                (product_id, price, currency, availability, observed_at, crawl_id)
            SELECT p.id, s.price, s.currency, s.availability, s.fetched_at, s.crawl_id
            FROM bench_staging s
            JOIN {tables.products} p ON p.source = s.source AND p.external_id = s.external_id
            ON CONFLICT (product_id, observed_at) DO NOTHING
            """  # noqa: S608 - table names are generated, never input
        )
