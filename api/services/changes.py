"""The change feed as the API serves it: positions as opaque cursors (:mod:`sluice.changes`
reads the feed)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from api.errors import invalid_parameter
from api.pagination import decode_cursor, encode_cursor
from sluice import changes as feed

#: the cursor's order name (a cursor of another listing is refused)
ORDER = "changes"
#: ``since`` to start at the end of the feed
NOW = "now"


def list_changes(conn: Connection, filters: dict[str, Any]) -> dict[str, Any]:
    """One page of the feed after ``filters["since"]``: its changes and the ``next`` cursor."""
    since = filters.get("since")
    if since == NOW:
        return {"items": [], "next": encode_cursor(ORDER, *feed.end(conn))}
    after = _position(since) if since else feed.START
    found, following = feed.read(conn, after, filters.get("kinds") or feed.KINDS, filters["limit"])
    return {"items": [change for _, change in found], "next": encode_cursor(ORDER, *following)}


def _position(cursor: str) -> feed.Position:
    txid, row_id = decode_cursor(cursor, ORDER, "int", parameter="since")
    if not isinstance(row_id, int) or not feed.valid((txid, row_id)):
        raise invalid_parameter("since", "not a position in the change feed")
    return txid, row_id
