"""Redis clients from a URL."""

from __future__ import annotations

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry


def client(url: str, *, timeout: float = 5.0, decode: bool = True, retries: int = 0) -> redis.Redis:
    """A Redis client for ``url`` (``redis://[:password@]host:port/db``).

    ``retries`` > 0 makes every command ride out a brief outage: connection errors and
    timeouts are retried with exponential backoff (0.1 s doubling up to 2 s between tries),
    so 20 retries wait about 30 s before the error reaches the caller.
    """
    options: dict[str, object] = {}
    if retries:
        options["retry"] = Retry(ExponentialBackoff(cap=2.0, base=0.1), retries)
        options["retry_on_error"] = [redis.ConnectionError, redis.TimeoutError]
    return redis.Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        decode_responses=decode,
        health_check_interval=30,
        **options,
    )
