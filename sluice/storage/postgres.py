"""PostgreSQL connections from a URL."""

from __future__ import annotations

import psycopg


def sqlalchemy_url(url: str) -> str:
    """``url`` for SQLAlchemy, with the psycopg 3 driver (the one installed with Sluice)."""
    scheme, _, rest = url.partition("://")
    return f"postgresql+psycopg://{rest}" if scheme in ("postgresql", "postgres") else url


def connect(url: str, *, autocommit: bool = False, timeout: float = 5.0) -> psycopg.Connection:
    """Open a psycopg connection to ``url`` (``postgresql://user:pw@host:port/db``)."""
    return psycopg.connect(url, autocommit=autocommit, connect_timeout=max(1, int(timeout)))
