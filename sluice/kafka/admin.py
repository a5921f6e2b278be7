"""Kafka administration: an admin client from the bootstrap address, topics created idempotently."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, NewPartitions, NewTopic

from sluice.connections import kafka_client_config
from sluice.kafka.topics import TopicSpec

log = logging.getLogger(__name__)


def admin_client(kafka: Mapping[str, Any], **config: Any) -> AdminClient:
    """An AdminClient on connection ``kafka`` (``Settings.kafka`` or an Airflow extra)."""
    return AdminClient(kafka_client_config(kafka, **config))


def broker_count(admin: AdminClient, timeout: float = 2.0) -> int:
    """How many brokers the cluster metadata lists; raises KafkaException when unreachable."""
    return len(admin.list_topics(timeout=timeout).brokers)


def ensure_topics(
    admin: AdminClient,
    specs: Iterable[TopicSpec],
    replication_factor: int = 1,
    timeout: float = 30.0,
) -> list[str]:
    """Create missing topics and grow ones with too few partitions; return what changed.

    Partitions are never reduced: Kafka cannot, and keys would move between partitions.
    """
    specs = list(specs)
    existing = admin.list_topics(timeout=timeout).topics
    changes: list[str] = []
    to_create = [
        NewTopic(
            s.name,
            num_partitions=s.partitions,
            replication_factor=replication_factor,
            config=dict(s.config),
        )
        for s in specs
        if s.name not in existing
    ]
    to_grow = [
        NewPartitions(s.name, s.partitions)
        for s in specs
        if s.name in existing and len(existing[s.name].partitions) < s.partitions
    ]
    for future_map, verb in (
        (admin.create_topics(to_create, request_timeout=timeout) if to_create else {}, "created"),
        (admin.create_partitions(to_grow, request_timeout=timeout) if to_grow else {}, "grew"),
    ):
        for name, future in future_map.items():
            try:
                future.result(timeout=timeout)
            except KafkaException as exc:
                raise RuntimeError(f"could not ensure topic {name}: {exc}") from exc
            log.info("topic %s %s", name, verb)
            changes.append(f"{verb} {name}")
    return changes
