"""Sorted, filtered, keyset-paginated listings over one table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Select, and_, or_
from sqlalchemy.engine import Connection

from api.pagination import decode_cursor, encode_cursor


@dataclass(frozen=True)
class SortKey:
    """A sort order: a column (then the id, for ties) and the cursor value's type."""

    column: str
    descending: bool
    kind: str


def parse_sort(sort: str, allowed: dict[str, str]) -> SortKey:
    """``price`` / ``-price`` into a :class:`SortKey` (the schema already checked it)."""
    name = sort.lstrip("-")
    return SortKey(name, sort.startswith("-"), allowed[name])


def page(
    conn: Connection,
    query: Select,
    id_column: Column,
    sorts: dict[str, str],
    filters: dict[str, Any],
    sort_columns: dict[str, Any] | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of ``query`` in the order ``filters["sort"]`` names (default ``id``), after
    ``filters["cursor"]``, ``filters["limit"]`` rows; (rows, next cursor or None).

    ``sorts`` maps each sortable name to its cursor type; the column sorted on is the query's
    column of that name unless ``sort_columns`` gives another expression.
    """
    sort = filters.get("sort", "id")
    key = parse_sort(sort, sorts)
    sort_column = (sort_columns or {}).get(key.column, query.selected_columns[key.column])
    limit, cursor = filters["limit"], filters.get("cursor")
    if cursor:
        value, last_id = decode_cursor(cursor, sort, key.kind)
        if key.column == "id":
            query = query.where(id_column < last_id if key.descending else id_column > last_id)
        elif key.descending:
            query = query.where(
                or_(sort_column < value, and_(sort_column == value, id_column < last_id))
            )
        else:
            query = query.where(
                or_(sort_column > value, and_(sort_column == value, id_column > last_id))
            )
    order = [sort_column.desc(), id_column.desc()] if key.descending else [sort_column, id_column]
    if key.column == "id":
        order = order[:1]
    rows = [dict(r) for r in conn.execute(query.order_by(*order).limit(limit + 1)).mappings()]
    more = len(rows) > limit
    rows = rows[:limit]
    following = (
        encode_cursor(sort, rows[-1][sort_column.name], rows[-1][id_column.name])
        if more and rows
        else None
    )
    return rows, following
