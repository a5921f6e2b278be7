"""What each product of a source looked like when it was last published, as a content hash
per product in Redis, so a crawl that finds a product unchanged publishes a small "seen"
notice instead of the whole item again (the processors then move its last sighting on).

A fingerprint is remembered only once its item is durable in Kafka (the lease protocol's
"remembered" step, :mod:`spiders.leasing`): a fingerprint never vouches for an item the
pipeline might still lose. Fingerprints expire (``SLUICE_UNCHANGED_MEMORY_DAYS``), so every
product is published whole again at least that often, whatever happened to the stores since.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

import redis

PREFIX = "sluice:fingerprints:"


def key_of(source: str) -> str:
    """The Redis hash of one source's fingerprints (field: the product's external id)."""
    return f"{PREFIX}{source}"


def fingerprint(item: dict[str, Any]) -> str:
    """The content hash of a validated item in its wire form (every field counts)."""
    text = json.dumps(item, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


class Fingerprints:
    """Reads and writes the fingerprints of products, by source."""

    def __init__(self, server: redis.Redis, ttl_seconds: int) -> None:
        self.server = server
        self.ttl = ttl_seconds

    def known(self, source: str, external_id: str) -> str | None:
        """The fingerprint remembered for one product, or None."""
        value = self.server.hget(key_of(source), external_id)
        return value.decode() if isinstance(value, bytes) else value

    def remember(self, entries: Iterable[tuple[str, str, str]]) -> int:
        """Store (source, external_id, fingerprint) entries in one round trip; how many."""
        by_source: dict[str, dict[str, str]] = {}
        for source, external_id, value in entries:
            by_source.setdefault(source, {})[external_id] = value
        if not by_source:
            return 0
        pipe = self.server.pipeline(transaction=False)
        for source, mapping in by_source.items():
            pipe.hset(key_of(source), mapping=mapping)
            pipe.expire(key_of(source), self.ttl)
        pipe.execute()
        return sum(len(m) for m in by_source.values())

    def forget_products(self, products: Iterable[tuple[str, str]]) -> None:
        """Drop the fingerprints of some (source, external id) products, in one round trip."""
        by_source: dict[str, list[str]] = {}
        for source, external_id in products:
            by_source.setdefault(source, []).append(external_id)
        if not by_source:
            return
        pipe = self.server.pipeline(transaction=False)
        for source, ids in by_source.items():
            pipe.hdel(key_of(source), *ids)
        pipe.execute()

    def forget(self, source: str) -> None:
        """Drop a source's fingerprints: its next crawl publishes every product whole."""
        self.server.delete(key_of(source))
