"""Redis clients from a URL."""

from __future__ import annotations

import redis


def client(url: str, *, timeout: float = 5.0) -> redis.Redis:
    """A Redis client for ``url`` (``redis://[:password@]host:port/db``) that returns str."""
    return redis.Redis.from_url(
        url, socket_timeout=timeout, socket_connect_timeout=timeout, decode_responses=True
    )
