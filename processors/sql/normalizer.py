"""Set-based, idempotent upserts for the normalizer.

A batch is copied into session-local staging tables and merged with one statement per table:
the newest observation of a product wins, a price row is added only when price, currency or
availability changed, and every statement is keyed so that a replay finds nothing to change.
The staging tables are made once per session (:func:`create_staging`) and empty themselves at
each commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import psycopg

STAGE_PRODUCTS = """
CREATE TEMP TABLE IF NOT EXISTS incoming_products (
    source text, external_id text, name text, brand text, category text, price numeric,
    currency text, availability text, rating numeric, review_count integer, image_url text,
    url text, fetched_at timestamptz, crawl_id text
) ON COMMIT DELETE ROWS
"""
PRODUCT_COLUMNS = (
    "source, external_id, name, brand, category, price, currency, availability, rating, "
    "review_count, image_url, url, fetched_at, crawl_id"
)

MERGE_PRODUCTS = """
INSERT INTO products AS p (
    source, external_id, name, brand, category, price, currency, availability, rating,
    review_count, image_url, url, first_seen_at, last_seen_at, last_crawl_id, updated_at
)
SELECT DISTINCT ON (source, external_id)
    source, external_id, name, brand, category, price, currency, availability, rating,
    review_count, image_url, url,
    min(fetched_at) OVER (PARTITION BY source, external_id), fetched_at, crawl_id, now()
FROM incoming_products
ORDER BY source, external_id, fetched_at DESC, crawl_id DESC
ON CONFLICT (source, external_id) DO UPDATE SET
    name = EXCLUDED.name, brand = EXCLUDED.brand, category = EXCLUDED.category,
    price = EXCLUDED.price, currency = EXCLUDED.currency, availability = EXCLUDED.availability,
    rating = EXCLUDED.rating, review_count = EXCLUDED.review_count,
    image_url = EXCLUDED.image_url, url = EXCLUDED.url,
    first_seen_at = LEAST(p.first_seen_at, EXCLUDED.first_seen_at),
    last_seen_at = EXCLUDED.last_seen_at, last_crawl_id = EXCLUDED.last_crawl_id,
    missed_crawls = 0, updated_at = now()
WHERE p.last_seen_at < EXCLUDED.last_seen_at
"""

# A price row per observation that differs from the one before it (in this batch, or stored).
MERGE_PRICES = """
WITH obs AS (
    SELECT DISTINCT ON (p.id, i.fetched_at)
        p.id AS product_id, i.price, i.currency, i.availability, i.fetched_at, i.crawl_id
    FROM incoming_products i
    JOIN products p ON p.source = i.source AND p.external_id = i.external_id
    ORDER BY p.id, i.fetched_at, i.crawl_id
), seq AS (
    SELECT o.*,
        LAG(ROW(o.price, o.currency, o.availability)) OVER w AS before_in_batch,
        ROW_NUMBER() OVER w AS n
    FROM obs o
    WINDOW w AS (PARTITION BY o.product_id ORDER BY o.fetched_at)
)
INSERT INTO product_prices (product_id, price, currency, availability, observed_at, crawl_id)
SELECT s.product_id, s.price, s.currency, s.availability, s.fetched_at, s.crawl_id
FROM seq s
-- Only a product's first observation in the batch looks up the stored history; the
-- others compare with the observation before them in the batch.
WHERE CASE WHEN s.n = 1
    THEN NOT EXISTS (
        SELECT FROM (
            SELECT pp.price, pp.currency::text AS currency, pp.availability
            FROM product_prices pp
            WHERE pp.product_id = s.product_id AND pp.observed_at < s.fetched_at
            ORDER BY pp.observed_at DESC
            LIMIT 1
        ) stored
        WHERE ROW(stored.price, stored.currency, stored.availability)
              IS NOT DISTINCT FROM ROW(s.price, s.currency, s.availability)
    )
    ELSE s.before_in_batch IS DISTINCT FROM ROW(s.price, s.currency, s.availability)
END
ON CONFLICT (product_id, observed_at) DO NOTHING
"""

STAGE_SEEN = """
CREATE TEMP TABLE IF NOT EXISTS incoming_seen (
    source text, external_id text, fetched_at timestamptz, crawl_id text
) ON COMMIT DELETE ROWS
"""

# A seen notice moves the product's last sighting on (and counts it for the crawl that saw
# it), never back, and changes nothing of its content: that was the same as stored. The row
# is stored again (updated_at) as the merge would store an unchanged observation, so the
# freshness checks see the pipeline delivering. A notice for a product not stored has nothing
# to move.
MARK_SEEN = """
UPDATE products AS p SET
    last_seen_at = s.fetched_at, last_crawl_id = s.crawl_id, missed_crawls = 0,
    updated_at = now()
FROM (
    SELECT DISTINCT ON (source, external_id) source, external_id, fetched_at, crawl_id
    FROM incoming_seen
    ORDER BY source, external_id, fetched_at DESC, crawl_id DESC
) s
WHERE p.source = s.source AND p.external_id = s.external_id AND p.last_seen_at < s.fetched_at
"""

STAGE_QUOTES = """
CREATE TEMP TABLE IF NOT EXISTS incoming_quotes (
    symbol text, name text, exchange text, price numeric, currency text, change numeric,
    change_pct numeric, volume bigint, as_of timestamptz, trade_date date, source text,
    crawl_id text, fetched_at timestamptz
) ON COMMIT DELETE ROWS
"""
QUOTE_COLUMNS = (
    "symbol, name, exchange, price, currency, change, change_pct, volume, as_of, trade_date, "
    "source, crawl_id, fetched_at"
)
MERGE_QUOTES = f"""
INSERT INTO quotes AS q ({QUOTE_COLUMNS}, updated_at)
SELECT DISTINCT ON (symbol, as_of) {QUOTE_COLUMNS}, now()
FROM incoming_quotes
ORDER BY symbol, as_of, fetched_at DESC, crawl_id DESC
ON CONFLICT (symbol, as_of) DO UPDATE SET
    name = EXCLUDED.name, exchange = EXCLUDED.exchange, price = EXCLUDED.price,
    currency = EXCLUDED.currency, change = EXCLUDED.change, change_pct = EXCLUDED.change_pct,
    volume = EXCLUDED.volume, trade_date = EXCLUDED.trade_date, source = EXCLUDED.source,
    crawl_id = EXCLUDED.crawl_id, fetched_at = EXCLUDED.fetched_at, updated_at = now()
WHERE q.fetched_at < EXCLUDED.fetched_at
"""  # noqa: S608 - built from constants only

INSERT_REJECTION = """
INSERT INTO rejected_items
    (topic, partition, "offset", message_key, crawl_id, stage, reason, error, payload)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (topic, partition, "offset") DO NOTHING
"""

# One statement per crawl: the run row made if missing (spider and start kept or filled in),
# its stored and rejected counts recounted; updated_at moves only when the counts do, and a
# row with nothing to change is not rewritten.
REFRESH_CRAWL = """
WITH counts AS (
    SELECT (SELECT count(*) FROM products WHERE last_crawl_id = %(c)s)
         + (SELECT count(*) FROM quotes WHERE crawl_id = %(c)s) AS stored,
           (SELECT count(*) FROM rejected_items WHERE crawl_id = %(c)s) AS rejected
)
INSERT INTO crawl_runs AS r
    (crawl_id, spider, status, started_at, updated_at, items_stored, items_rejected)
SELECT %(c)s, %(spider)s, 'running', %(first)s, now(), counts.stored, counts.rejected
FROM counts
ON CONFLICT (crawl_id) DO UPDATE SET
    spider = COALESCE(r.spider, EXCLUDED.spider),
    started_at = LEAST(r.started_at, EXCLUDED.started_at),
    items_stored = EXCLUDED.items_stored,
    items_rejected = EXCLUDED.items_rejected,
    updated_at = CASE
        WHEN (r.items_stored, r.items_rejected)
             IS DISTINCT FROM (EXCLUDED.items_stored, EXCLUDED.items_rejected)
        THEN now() ELSE r.updated_at END
WHERE (r.spider, r.started_at, r.items_stored, r.items_rejected) IS DISTINCT FROM (
    COALESCE(r.spider, EXCLUDED.spider), LEAST(r.started_at, EXCLUDED.started_at),
    EXCLUDED.items_stored, EXCLUDED.items_rejected
)
"""


def _copy(
    conn: psycopg.Connection, table: str, columns: str, rows: Iterable[Sequence[Any]]
) -> None:
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def create_staging(conn: psycopg.Connection) -> None:
    """Make this session's staging tables (once per connection, outside any batch)."""
    conn.execute(STAGE_PRODUCTS + ";" + STAGE_SEEN + ";" + STAGE_QUOTES)


def clear_staging(conn: psycopg.Connection) -> None:
    """Empty the staging tables inside a transaction, before writing a part of a batch again."""
    conn.execute(
        "DELETE FROM incoming_products; DELETE FROM incoming_seen; DELETE FROM incoming_quotes"
    )


def upsert_products(conn: psycopg.Connection, rows: list) -> None:
    """Merge product observations into ``products`` and ``product_prices``."""
    if not rows:
        return
    _copy(
        conn,
        "incoming_products",
        PRODUCT_COLUMNS,
        (
            (
                r.source,
                i["external_id"],
                i["name"],
                i.get("brand"),
                i.get("category"),
                i["price"],
                i["currency"],
                i.get("availability"),
                i.get("rating"),
                i.get("review_count"),
                i.get("image_url"),
                i["url"],
                r.fetched_at,
                r.crawl_id,
            )
            for r in rows
            for i in (r.item,)
        ),
    )
    # One round trip: the price merge reads the products the first statement merged.
    conn.execute(MERGE_PRODUCTS + ";" + MERGE_PRICES)


# Products a seen notice named that are not stored (the store lost them, or never kept them):
# their fingerprints must go, so the next crawl publishes them whole.
UNKNOWN_SEEN = """
SELECT DISTINCT s.source, s.external_id FROM incoming_seen s
WHERE NOT EXISTS (
    SELECT FROM products p WHERE p.source = s.source AND p.external_id = s.external_id
)
"""


def mark_seen(conn: psycopg.Connection, rows: list) -> list[tuple[str, str]]:
    """Move on the last sighting of products seen again unchanged; returns the (source,
    external id) of those not stored."""
    if not rows:
        return []
    _copy(
        conn,
        "incoming_seen",
        "source, external_id, fetched_at, crawl_id",
        ((r.source, r.item["external_id"], r.fetched_at, r.crawl_id) for r in rows),
    )
    conn.execute(MARK_SEEN)
    return [tuple(row) for row in conn.execute(UNKNOWN_SEEN).fetchall()]


def upsert_quotes(conn: psycopg.Connection, rows: list) -> None:
    """Merge quote observations into ``quotes``."""
    if not rows:
        return
    _copy(
        conn,
        "incoming_quotes",
        QUOTE_COLUMNS,
        (
            (
                i["symbol"],
                i.get("name"),
                i.get("exchange"),
                i["price"],
                i["currency"],
                i.get("change"),
                i.get("change_pct"),
                i.get("volume"),
                i["as_of"],
                i["trade_date"],
                r.source,
                r.crawl_id,
                r.fetched_at,
            )
            for r in rows
            for i in (r.item,)
        ),
    )
    conn.execute(MERGE_QUOTES)


def insert_rejections(conn: psycopg.Connection, rejections: list) -> None:
    """Record rejected messages once per (topic, partition, offset)."""
    if not rejections:
        return
    with conn.cursor() as cur:
        cur.executemany(
            INSERT_REJECTION,
            [
                (
                    r.origin.topic,
                    r.origin.partition,
                    r.origin.offset,
                    (r.origin.key or b"").decode("utf-8", "replace"),
                    r.crawl_id,
                    r.stage,
                    r.reason,
                    r.error,
                    r.payload,
                )
                for r in rejections
            ],
        )


# Serialises the recounts of one crawl. Normalizer replicas store the same crawl's rows at
# once: a recount whose snapshot predates another replica's commit would overwrite that
# replica's (higher) count with its own, and the crawl would stay undercounted. Holding this
# lock until commit, and counting only after taking it (a new statement, so a new snapshot),
# makes the last replica to count see every row the others committed. Sorted crawl ids keep
# the lock order the same everywhere; a batch's row upserts come before, so no wait cycles.
LOCK_CRAWL = "SELECT pg_advisory_xact_lock(hashtextextended('sluice.crawl_runs:' || %s, 0))"


def refresh_crawl_runs(conn: psycopg.Connection, crawls: dict[str, dict[str, Any]]) -> None:
    """Make sure each crawl has a run row, and refresh its stored and rejected counts (inside
    the caller's transaction, which must commit soon: it holds each crawl's recount lock)."""
    for crawl_id, info in sorted(crawls.items()):
        conn.execute(LOCK_CRAWL, (crawl_id,))
        conn.execute(
            REFRESH_CRAWL, {"c": crawl_id, "spider": info.get("spider"), "first": info["first"]}
        )
