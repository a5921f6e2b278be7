"""PostgreSQL connections from a URL."""

from __future__ import annotations

import psycopg


def connect(url: str, *, autocommit: bool = False, timeout: float = 5.0) -> psycopg.Connection:
    """Open a psycopg connection to ``url`` (``postgresql://user:pw@host:port/db``)."""
    return psycopg.connect(url, autocommit=autocommit, connect_timeout=max(1, int(timeout)))
