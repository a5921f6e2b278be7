"""The change feed: the price and availability history read as a stream of changes.

Each history row records a change of its product (``sql/0016_change_feed.sql``). The feed
orders rows by the transaction that wrote them, then by id, and serves a row only once every
transaction that could still write before it has ended (below the oldest one running). So a
position in the feed, once reached, never has a row appear behind it: a reader that follows
the next position sees every change exactly once, whichever processor replica wrote it and
when. The API's ``/api/v1/changes`` and the webhook deliverers read it through this module.

A row's kinds are read against the history row before it (by observation time): ``new`` when
there is none, ``price`` when price or currency differ, ``availability`` or ``discontinued``
when availability differs. A row that differs in nothing (a late observation made its
neighbour equal) is no change and is skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import TextClause, text
from sqlalchemy.engine import Connection

#: what a change can be (an availability change to discontinued is "discontinued")
KINDS = ("new", "price", "availability", "discontinued")
#: a position in the feed: (transaction, history row id), read after
Position = tuple[int, int]
#: before every change
START: Position = (0, 0)
#: a row id above every real one: a position after every row of its transaction
LAST_ID = 2**63 - 1
#: the largest transaction id (xid8 is unsigned 64-bit)
LAST_TXID = 2**64 - 1

# Whether a row (pp) against the row before it (prev, found when prev.found) is each kind.
KIND_TESTS = {
    "new": "prev.found IS NULL",
    "price": "prev.found AND (prev.price, prev.currency) IS DISTINCT FROM (pp.price, pp.currency)",
    "availability": "prev.found AND prev.availability IS DISTINCT FROM pp.availability "
    "AND pp.availability IS DISTINCT FROM 'discontinued'",
    "discontinued": "prev.found AND prev.availability IS DISTINCT FROM pp.availability "
    "AND pp.availability = 'discontinued'",
}

#: transactions below this one have all ended (committed or not)
HORIZON = text("SELECT pg_snapshot_xmin(pg_current_snapshot())::text")

PAGE = """
SELECT pp.id, pp.txid::text AS txid, pp.product_id, p.source, p.external_id, pp.observed_at,
       pp.crawl_id, pp.price, pp.currency, pp.availability,
       prev.price AS old_price, prev.currency AS old_currency,
       prev.availability AS old_availability,
       {columns}
FROM product_prices pp
JOIN products p ON p.id = pp.product_id
LEFT JOIN LATERAL (
    SELECT true AS found, q.price, q.currency, q.availability
    FROM product_prices q
    WHERE q.product_id = pp.product_id AND q.observed_at < pp.observed_at
    ORDER BY q.observed_at DESC
    LIMIT 1
) prev ON true
WHERE (pp.txid, pp.id) > (CAST(:txid AS xid8), :id)
  AND pp.txid < CAST(:horizon AS xid8)
  AND ({wanted})
ORDER BY pp.txid, pp.id
LIMIT :limit
"""


def valid(position: Position) -> bool:
    """Whether ``position`` can be a position in the feed."""
    txid, row_id = position
    return 0 <= txid <= LAST_TXID and 0 <= row_id <= LAST_ID


def end(conn: Connection) -> Position:
    """The feed's end as of now: after every change already settled."""
    return (horizon(conn) - 1, LAST_ID)


def horizon(conn: Connection) -> int:
    """The oldest transaction still running (or the next to start): all below have ended."""
    return int(conn.execute(HORIZON).scalar_one())


def read(
    conn: Connection, after: Position, kinds: Sequence[str] = KINDS, limit: int = 100
) -> tuple[list[tuple[Position, dict[str, Any]]], Position]:
    """Up to ``limit`` changes of ``kinds`` after position ``after``, oldest first, each with
    its own position, and the position to read on from (the feed's end when these were all
    there was)."""
    settled = horizon(conn)
    rows = conn.execute(page(after, settled, kinds or KINDS, limit + 1)).mappings().all()
    if len(rows) > limit:
        last = rows[limit - 1]
        following = (int(last["txid"]), last["id"])
    else:
        # Nothing more is settled: go on from the end (never back from where the reader was).
        following = max((settled - 1, LAST_ID), after)
    return [((int(r["txid"]), r["id"]), _change(r)) for r in rows[:limit]], following


def page(after: Position, settled: int, kinds: Sequence[str], limit: int) -> TextClause:
    """The ``SELECT`` of up to ``limit`` changes of ``kinds`` after ``after`` and below
    transaction ``settled``, parameters bound."""
    statement = text(
        PAGE.format(
            columns=", ".join(f"({KIND_TESTS[k]}) AS is_{k}" for k in KINDS),
            wanted=" OR ".join(f"({KIND_TESTS[k]})" for k in dict.fromkeys(kinds)),
        )
    )
    return statement.bindparams(txid=str(after[0]), id=after[1], horizon=str(settled), limit=limit)


def _change(row: Any) -> dict[str, Any]:
    new = {"price": row["price"], "currency": row["currency"], "availability": row["availability"]}
    old = None
    if not row["is_new"]:
        old = {
            "price": row["old_price"],
            "currency": row["old_currency"],
            "availability": row["old_availability"],
        }
    return {
        "id": row["id"],
        "kinds": [k for k in KINDS if row[f"is_{k}"]],
        "product_id": row["product_id"],
        "source": row["source"],
        "external_id": row["external_id"],
        "observed_at": row["observed_at"],
        "crawl_id": row["crawl_id"],
        "old": old,
        "new": new,
    }
