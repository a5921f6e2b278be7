"""``X-API-Key`` on every data endpoint checked in PostgreSQL, and the rate limit's refusal.

The per-key counting and the cached checks are one Redis round trip (:mod:`api.gate`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.engine import Engine

from api.errors import ApiError
from api.keys import hash_key
from api.tables import api_keys

HEADER = "X-API-Key"
WINDOW_SECONDS = 60


@dataclass(frozen=True)
class Caller:
    """Who is calling: the key's id, name and limit."""

    key_id: int
    name: str
    rate_limit: int


def presented_key(presented: str | None) -> str:
    """The key the request sent, or 401 saying where to send it."""
    if not presented:
        raise ApiError(401, "unauthorized", f"send your API key in the {HEADER} header")
    return presented


def authenticate(engine: Engine, presented: str | None) -> Caller:
    """The caller of an active key, looked up in PostgreSQL, or 401."""
    key = presented_key(presented)
    with engine.connect() as conn:
        row = conn.execute(
            select(api_keys.c.id, api_keys.c.name, api_keys.c.rate_limit_per_minute).where(
                api_keys.c.key_hash == hash_key(key), api_keys.c.revoked_at.is_(None)
            )
        ).first()
    if row is None:
        raise ApiError(401, "unauthorized", "unknown or revoked API key")
    return Caller(row.id, row.name, row.rate_limit_per_minute)


def rate_limited(caller: Caller, now: float, window: int) -> ApiError:
    """The 429 of a caller past their limit in ``window`` (minutes since the epoch), with
    Retry-After naming the seconds left in it."""
    retry = max(1, int((window + 1) * WINDOW_SECONDS - now))
    return ApiError(
        429,
        "rate_limited",
        f"rate limit of {caller.rate_limit} requests per minute reached; retry in {retry}s",
        {"limit": caller.rate_limit, "retry_after": retry},
        headers={"Retry-After": str(retry)},
    )
