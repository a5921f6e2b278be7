"""The API's connections: SQLAlchemy on the read-only role, and Redis. Created lazily."""

from __future__ import annotations

from dataclasses import dataclass, field

import redis
from flask import current_app
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

from sluice.settings import Settings
from sluice.storage.postgres import sqlalchemy_url
from sluice.storage.redis import client

#: where the app keeps its Stores
EXTENSION = "sluice.stores"


@dataclass
class Stores:
    """PostgreSQL (reader role) and Redis, built on first use, shared by a process."""

    settings: Settings
    _engine: Engine | None = field(default=None, repr=False)
    _redis: redis.Redis | None = field(default=None, repr=False)

    @property
    def engine(self) -> Engine:
        """The read-only engine (pool checked before use, so a restarted database is fine)."""
        if self._engine is None:
            self._engine = create_engine(
                sqlalchemy_url(self.settings.postgres_reader_url),
                pool_pre_ping=True,
                pool_size=5,
                max_overflow=5,
                connect_args={"connect_timeout": 3},
            )
        return self._engine

    @property
    def redis(self) -> redis.Redis:
        """Redis with short timeouts: the cache and the limiter must not slow the API."""
        if self._redis is None:
            self._redis = client(self.settings.redis_url, timeout=1.0, decode=False)
        return self._redis


def current_stores() -> Stores:
    """The connections of the app serving this request."""
    return current_app.extensions[EXTENSION]
