"""``X-API-Key`` on every data endpoint, and a per-key rate limit in Redis."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import redis
from sqlalchemy import select
from sqlalchemy.engine import Engine

from api.errors import ApiError
from api.keys import hash_key
from api.tables import api_keys

log = logging.getLogger(__name__)

HEADER = "X-API-Key"
WINDOW_SECONDS = 60


@dataclass(frozen=True)
class Caller:
    """Who is calling: the key's id, name and limit."""

    key_id: int
    name: str
    rate_limit: int


def authenticate(engine: Engine, presented: str | None) -> Caller:
    """The caller of an active key, or 401."""
    if not presented:
        raise ApiError(401, "unauthorized", f"send your API key in the {HEADER} header")
    with engine.connect() as conn:
        row = conn.execute(
            select(api_keys.c.id, api_keys.c.name, api_keys.c.rate_limit_per_minute).where(
                api_keys.c.key_hash == hash_key(presented), api_keys.c.revoked_at.is_(None)
            )
        ).first()
    if row is None:
        raise ApiError(401, "unauthorized", "unknown or revoked API key")
    return Caller(row.id, row.name, row.rate_limit_per_minute)


def enforce_rate_limit(server: redis.Redis | None, caller: Caller, now: float | None = None) -> int:
    """Count this request in the key's current minute; 429 with Retry-After past the limit.

    Returns the requests left in the window. Redis being away lets requests through (logged):
    an outage of the limiter must not become an outage of the API.
    """
    if server is None:
        return caller.rate_limit
    now = time.time() if now is None else now
    window = int(now // WINDOW_SECONDS)
    key = f"sluice:api:ratelimit:{caller.key_id}:{window}"
    try:
        pipe = server.pipeline(transaction=True)
        pipe.incr(key)
        pipe.expire(key, WINDOW_SECONDS * 2)
        used = int(pipe.execute()[0])
    except redis.RedisError as exc:
        log.warning("rate limiter unavailable (%s); request let through", exc)
        return caller.rate_limit
    if used > caller.rate_limit:
        retry = max(1, int((window + 1) * WINDOW_SECONDS - now))
        raise ApiError(
            429,
            "rate_limited",
            f"rate limit of {caller.rate_limit} requests per minute reached; retry in {retry}s",
            {"limit": caller.rate_limit, "retry_after": retry},
            headers={"Retry-After": str(retry)},
        )
    return caller.rate_limit - used
