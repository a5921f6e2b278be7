"""Crawl runs with their stats."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from api.listing import page
from api.schemas import CRAWL_SORTS
from api.tables import crawl_runs

# Runs not started yet sort as the oldest; the cursor needs a non-null value.
STARTED = func.coalesce(crawl_runs.c.started_at, func.to_timestamp(0)).label("started_key")


def list_crawls(conn: Connection, filters: dict[str, Any]) -> tuple[list[dict], str | None]:
    """One page of crawl runs, newest first by default."""
    query = select(crawl_runs, STARTED)
    for name in ("spider", "status"):
        if filters.get(name):
            query = query.where(crawl_runs.c[name] == filters[name])
    return page(conn, query, crawl_runs.c.crawl_id, CRAWL_SORTS, filters, {"started_at": STARTED})


def get_crawl(conn: Connection, crawl_id: str) -> dict | None:
    """One crawl run, or None."""
    row = conn.execute(select(crawl_runs).where(crawl_runs.c.crawl_id == crawl_id)).mappings()
    found = row.first()
    return dict(found) if found else None
