"""Quotes: by symbol and trade-date range, and one symbol's latest."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.engine import Connection

from api.listing import page
from api.schemas import QUOTE_SORTS
from api.tables import quotes

COLUMNS = [c for c in quotes.c if c.name not in ("crawl_id", "fetched_at", "updated_at")]


def filtered(filters: dict[str, Any]) -> Select:
    """``SELECT`` of quotes matching the filters of :class:`api.schemas.QuoteQuery`."""
    query = select(*COLUMNS)
    if filters.get("symbol"):
        query = query.where(quotes.c.symbol == filters["symbol"].upper())
    if filters.get("date_from") is not None:
        query = query.where(quotes.c.trade_date >= filters["date_from"])
    if filters.get("date_to") is not None:
        query = query.where(quotes.c.trade_date <= filters["date_to"])
    return query


def list_quotes(conn: Connection, filters: dict[str, Any]) -> tuple[list[dict], str | None]:
    """One page of quotes."""
    return page(conn, filtered(filters), quotes.c.id, QUOTE_SORTS, filters)


def latest_quote(conn: Connection, symbol: str) -> dict | None:
    """The newest quote of ``symbol``, or None."""
    row = (
        conn.execute(
            select(*COLUMNS)
            .where(quotes.c.symbol == symbol.upper())
            .order_by(quotes.c.as_of.desc())
            .limit(1)
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None
