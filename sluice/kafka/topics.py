"""The Kafka topics of the design, with the partition counts every environment creates.

Keys are natural keys (``<source>:<external_id>``, ``<symbol>``), so one key stays ordered in
one partition; the counts bound how many processors of one group can share a topic.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TopicSpec:
    """A topic and how it is created."""

    name: str
    partitions: int
    config: tuple[tuple[str, str], ...] = ()


RAW_PRODUCTS = TopicSpec(
    "sluice.raw.products", partitions=6, config=(("retention.ms", "604800000"),)
)
RAW_QUOTES = TopicSpec("sluice.raw.quotes", partitions=3, config=(("retention.ms", "604800000"),))
# Rejected records are kept four weeks: long enough to fix a bug and re-drive them.
DLQ = TopicSpec("sluice.dlq", partitions=3, config=(("retention.ms", "2419200000"),))

# Platform events (crawl requests) that Airflow watches; one partition keeps them in order.
EVENTS = TopicSpec("sluice.events", partitions=1, config=(("retention.ms", "604800000"),))

TOPICS: tuple[TopicSpec, ...] = (RAW_PRODUCTS, RAW_QUOTES, DLQ, EVENTS)
