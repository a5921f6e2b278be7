"""The two processor groups, assembled from settings.

- ``archiver``: every envelope into MongoDB ``raw_items`` (consumer group ``sluice.archiver``);
- ``normalizer``: validated rows into PostgreSQL (consumer group ``sluice.normalizer``).
Both read ``sluice.raw.products`` and ``sluice.raw.quotes`` and dead-letter to ``sluice.dlq``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from urllib.parse import urlsplit

import redis

from processors.archiver import ArchiveHandler, MongoSink
from processors.dlq import DeadLetters
from processors.normalizer import NormalizeHandler, PostgresSink
from processors.runtime import Runtime
from sluice.crawl.fingerprints import Fingerprints
from sluice.kafka.producer import make_producer
from sluice.kafka.topics import RAW_PRODUCTS, RAW_QUOTES
from sluice.settings import Settings
from sluice.storage import mongo, postgres, versions
from sluice.storage.redis import client as redis_client

log = logging.getLogger(__name__)

GROUPS = ("archiver", "normalizer")
TOPICS = [RAW_PRODUCTS.name, RAW_QUOTES.name]


def consumer_group(name: str) -> str:
    """The Kafka consumer group of a processor group."""
    return f"sluice.{name}"


def version_bumper(redis_url: str) -> Callable[[list[str]], None]:
    """Bump data versions after a commit; Redis being away only delays cache freshness."""
    server = redis_client(redis_url, retries=3)

    def bump(entities: list[str]) -> None:
        try:
            versions.bump(server, entities)
        except redis.RedisError as exc:
            log.warning(
                "could not bump data versions %s (%s); API caches expire by TTL", entities, exc
            )

    return bump


def fingerprint_forgetter(settings: Settings) -> Callable[[list[tuple[str, str]]], None]:
    """Forget the fingerprints of products a seen notice named but the store does not have,
    so the next crawl publishes them whole; Redis being away only delays that a crawl."""
    memory = Fingerprints(redis_client(settings.redis_url, retries=3, decode=False), 0)

    def forget(products: list[tuple[str, str]]) -> None:
        log.info("%d seen product(s) are not stored; their next crawl publishes them whole",
                 len(products))  # fmt: skip
        try:
            memory.forget_products(products)
        except redis.RedisError as exc:
            log.warning("could not forget %d fingerprints (%s)", len(products), exc)

    return forget


def mongo_database(settings: Settings) -> str:
    """The MongoDB database of the raw archive (named in SLUICE_MONGO_URL)."""
    return urlsplit(settings.mongo_url).path.lstrip("/") or "sluice"


def normalizer_sink(settings: Settings) -> PostgresSink:
    """The normalizer's writes: the writer role, data versions bumped after each commit."""
    return PostgresSink(
        lambda: postgres.connect(settings.postgres_writer_url, autocommit=True),
        after_commit=version_bumper(settings.redis_url),
        forget_fingerprints=fingerprint_forgetter(settings),
    )


def build(
    settings: Settings,
    group: str,
    topics: list[str] | None = None,
    consumer_group_id: str | None = None,
    **runtime_options: object,
) -> Runtime:
    """The runtime of processor group ``group`` (``archiver`` or ``normalizer``).

    ``topics`` and ``consumer_group_id`` replace the defaults, e.g. to rebuild from a copy of
    a topic under a fresh group.
    """
    dead_letters = DeadLetters(
        make_producer(settings.kafka, **{"client.id": f"sluice-{group}-dlq"})
    )
    if group == "archiver":
        handler, sink = (
            ArchiveHandler(),
            MongoSink(mongo.client(settings.mongo_url, timeout=60), mongo_database(settings)),
        )
    elif group == "normalizer":
        handler, sink = NormalizeHandler(), normalizer_sink(settings)
    else:
        raise ValueError(f"unknown processor group {group!r}; choose from {', '.join(GROUPS)}")
    return Runtime(
        kafka=settings.kafka,
        group=consumer_group_id or consumer_group(group),
        topics=topics or TOPICS,
        handler=handler,
        sink=sink,
        dead_letters=dead_letters,
        commit_before_write=settings.drill_commit_before_write,
        **runtime_options,
    )
