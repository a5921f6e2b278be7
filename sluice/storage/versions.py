"""Per-entity data versions in Redis: the normalizer bumps them, API cache keys include them.

A read after a processed batch is therefore fresh at once: the cache key it computes names
the new version, which nothing has cached yet.
"""

from __future__ import annotations

from collections.abc import Iterable

import redis

KEY = "sluice:data_version:{entity}"


def bump(server: redis.Redis, entities: Iterable[str]) -> None:
    """Increment the version of each entity (``products``, ``quotes``, ...)."""
    names = list(entities)
    if not names:
        return
    pipe = server.pipeline(transaction=False)
    for entity in names:
        pipe.incr(KEY.format(entity=entity))
    pipe.execute()


def current(server: redis.Redis, entity: str) -> int:
    """The entity's version (0 before the first bump)."""
    return int(server.get(KEY.format(entity=entity)) or 0)
