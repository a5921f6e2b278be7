"""Disappeared products: what a complete crawl of a source did not see.

A crawl run is *complete* when it crawled its spider's registered sources whole: no start URLs
of its own, no page limit, and it finished with no failed page. For each source it stored
products of, every other product of that source not seen since the run started counts one
absence (``products.missed_crawls``). At ``SLUICE_DISCONTINUE_AFTER_CRAWLS`` absences in a
row the product becomes ``discontinued``, with a row in its availability history
(``product_prices``) at the run's end, so the API's ``availability=discontinued`` filter and
the history show it. The normalizer resets the count when the product is seen again (its
merge sets ``missed_crawls = 0``), and a reappearing product's next observation records its
availability again.

A run's absences are counted once: the run row is marked first, in the same transaction, so a
retried finalize step counts nothing twice.
"""

from __future__ import annotations

import psycopg

# Only a finished run not counted yet; the mark and the counts commit together.
MARK_COUNTED = """
UPDATE crawl_runs SET absences_counted_at = now()
WHERE crawl_id = %(crawl)s AND status = 'finished' AND absences_counted_at IS NULL
RETURNING started_at, finished_at
"""

COUNT_ABSENT = """
UPDATE products p SET missed_crawls = p.missed_crawls + 1
WHERE p.source IN (SELECT DISTINCT source FROM products WHERE last_crawl_id = %(crawl)s)
  AND p.last_seen_at < %(started)s
  AND p.availability <> 'discontinued'
RETURNING p.id
"""

DISCONTINUE = """
WITH gone AS (
    UPDATE products SET availability = 'discontinued', updated_at = now()
    WHERE id = ANY(%(ids)s) AND missed_crawls >= %(after)s
    RETURNING id, price, currency
)
INSERT INTO product_prices (product_id, price, currency, availability, observed_at, crawl_id)
SELECT id, price, currency, 'discontinued', COALESCE(%(ended)s, now()), %(crawl)s FROM gone
ON CONFLICT (product_id, observed_at) DO NOTHING
RETURNING product_id
"""


def count_absences(conn: psycopg.Connection, crawl_id: str, after: int) -> list[int]:
    """Count the products complete run ``crawl_id`` did not see as absent once; return the
    ids of those that now reach ``after`` absences in a row and became discontinued."""
    with conn.transaction():
        run = conn.execute(MARK_COUNTED, {"crawl": crawl_id}).fetchone()
        if run is None:
            return []
        started, ended = run
        absent = [r[0] for r in conn.execute(COUNT_ABSENT, {"crawl": crawl_id, "started": started})]
        if not absent:
            return []
        gone = conn.execute(
            DISCONTINUE, {"ids": absent, "after": after, "ended": ended, "crawl": crawl_id}
        )
        return sorted(r[0] for r in gone)
