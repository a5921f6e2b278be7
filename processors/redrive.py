"""Inspecting rejected records and sending them back through the processors.

Rejections are kept in PostgreSQL ``rejected_items`` (with the original message bytes) and on
the ``sluice.dlq`` topic. A re-drive produces the original bytes, with the original key, to the
original topic, and marks the rows re-driven; a record that fails again is rejected again
under its new offset, so nothing is lost either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
from confluent_kafka import Producer

from sluice.kafka.producer import deliver

LIST = """
SELECT id, topic, partition, "offset", message_key, crawl_id, stage, reason,
       left(error, 300) AS error, length(payload) AS bytes, rejected_at, redriven_at
FROM rejected_items
WHERE (%(reason)s::text IS NULL OR reason = %(reason)s OR reason LIKE %(reason)s || '/%%')
  AND (%(since)s::timestamptz IS NULL OR rejected_at >= %(since)s)
  AND (%(pending)s = false OR redriven_at IS NULL)
ORDER BY id
LIMIT %(limit)s
"""
SHOW = "SELECT *, convert_from(payload, 'UTF8') AS text FROM rejected_items WHERE id = %s"
SHOW_BINARY = "SELECT * FROM rejected_items WHERE id = %s"
MARK = "UPDATE rejected_items SET redriven_at = now() WHERE id = ANY(%s)"


@dataclass(frozen=True)
class RedriveResult:
    """What a re-drive sent."""

    sent: int
    ids: list[int]


def list_rejected(
    conn: psycopg.Connection,
    reason: str | None = None,
    since: datetime | None = None,
    pending_only: bool = False,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Rejected records, oldest first; ``reason`` matches exactly or as a prefix.

    A ``since`` without a time zone is UTC (PostgreSQL would read it in its session's zone).
    """
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        cur.execute(
            LIST, {"reason": reason, "since": since, "pending": pending_only, "limit": limit}
        )
        return cur.fetchall()


def show_rejected(conn: psycopg.Connection, item_id: int) -> dict[str, Any] | None:
    """One rejected record with its payload (as text when it is UTF-8)."""
    with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        try:
            with conn.transaction():
                row = cur.execute(SHOW, (item_id,)).fetchone()
        except psycopg.errors.CharacterNotInRepertoire:
            row = cur.execute(SHOW_BINARY, (item_id,)).fetchone()
        return row


def redrive(
    conn: psycopg.Connection,
    producer: Producer,
    reason: str | None = None,
    since: datetime | None = None,
    limit: int = 10_000,
    timeout: float = 60.0,
) -> RedriveResult:
    """Send matching, not yet re-driven records back to their original topics."""
    rows = list_rejected(conn, reason, since, pending_only=True, limit=limit)
    if not rows:
        return RedriveResult(0, [])
    ids = [row["id"] for row in rows]
    with conn.cursor() as cur:
        payloads = dict(
            cur.execute(
                "SELECT id, payload FROM rejected_items WHERE id = ANY(%s)", (ids,)
            ).fetchall()
        )
    messages = (
        {
            "topic": row["topic"],
            "key": (row["message_key"] or "").encode() or None,
            "value": bytes(payloads[row["id"]]),
            "headers": [("redriven_from", str(row["id"]).encode())],
        }
        for row in rows
    )
    problem = deliver(producer, messages, timeout)
    if problem:
        raise RuntimeError(
            f"re-drive incomplete: {problem}; nothing was marked re-driven, run it again"
        )
    with conn.transaction():
        conn.execute(MARK, (ids,))
    return RedriveResult(len(ids), ids)
