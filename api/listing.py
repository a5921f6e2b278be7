"""Sorted, filtered, keyset-paginated listings over one table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, ColumnElement, Select, literal, tuple_
from sqlalchemy.engine import Connection

from api.pagination import decode_cursor, encode_cursor


@dataclass(frozen=True)
class SortKey:
    """A sort order: a column (then the id, for ties) and the cursor value's type."""

    column: str
    descending: bool
    kind: str


@dataclass(frozen=True)
class PageStatement:
    """The ``SELECT`` of one page (its ``limit`` rows and one more, to know whether a next
    page exists) and what the next cursor is made of."""

    statement: Select
    sort: str
    sort_column: ColumnElement
    id_column: Column
    limit: int


def parse_sort(sort: str, allowed: dict[str, str]) -> SortKey:
    """``price`` / ``-price`` into a :class:`SortKey` (the schema already checked it)."""
    name = sort.lstrip("-")
    return SortKey(name, sort.startswith("-"), allowed[name])


def page_query(
    query: Select,
    id_column: Column,
    sorts: dict[str, str],
    filters: dict[str, Any],
    sort_columns: dict[str, Any] | None = None,
) -> PageStatement:
    """The page of ``query`` in the order ``filters["sort"]`` names (default ``id``), after
    ``filters["cursor"]``, ``filters["limit"]`` rows, as a statement not run yet.

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
        else:
            # A row comparison, not `col > v OR (col = v AND id > last)`: PostgreSQL starts a
            # (col, id) index scan at the row itself, where the OR would walk the index from its
            # first entry to the cursor, discarding rows (a deep page would read most of it).
            # The sort columns are NOT NULL, where both forms select the same rows.
            after = tuple_(sort_column, id_column)
            position = tuple_(literal(value, sort_column.type), literal(last_id, id_column.type))
            query = query.where(after < position if key.descending else after > position)
    order = [sort_column.desc(), id_column.desc()] if key.descending else [sort_column, id_column]
    if key.column == "id":
        order = order[:1]
    statement = query.order_by(*order).limit(limit + 1)
    return PageStatement(statement, sort, sort_column, id_column, limit)


def fetch(conn: Connection, page: PageStatement) -> tuple[list[dict[str, Any]], str | None]:
    """Run ``page``: (its rows, the cursor of the next page or None)."""
    rows = [dict(r) for r in conn.execute(page.statement).mappings()]
    more = len(rows) > page.limit
    rows = rows[: page.limit]
    following = (
        encode_cursor(page.sort, rows[-1][page.sort_column.name], rows[-1][page.id_column.name])
        if more and rows
        else None
    )
    return rows, following


def page(
    conn: Connection,
    query: Select,
    id_column: Column,
    sorts: dict[str, str],
    filters: dict[str, Any],
    sort_columns: dict[str, Any] | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of ``query`` (see :func:`page_query`): (rows, next cursor or None)."""
    return fetch(conn, page_query(query, id_column, sorts, filters, sort_columns))
