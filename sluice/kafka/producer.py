"""The Kafka producer every publisher uses: idempotent, acks from all replicas, ordered per key."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from confluent_kafka import Producer

from sluice.connections import kafka_client_config

log = logging.getLogger(__name__)


def producer_config(kafka: Mapping[str, Any], **overrides: Any) -> dict[str, Any]:
    """Settings for a producer that never reorders or duplicates on retry.

    ``enable.idempotence`` implies acks=all and bounded in-flight requests; retries are
    infinite within ``delivery.timeout.ms`` (2 minutes), after which a delivery report
    carries the error and the caller must fail loudly. ``kafka`` is the connection
    (``Settings.kafka``, or an Airflow connection's extra).
    """
    return kafka_client_config(
        kafka,
        **{
            "enable.idempotence": True,
            "acks": "all",
            "compression.type": "zstd",
            "linger.ms": 20,
            "delivery.timeout.ms": 120_000,
            "message.max.bytes": 8 * 1024 * 1024,
            **overrides,
        },
    )


def make_producer(kafka: Mapping[str, Any], **overrides: Any) -> Producer:
    """An idempotent producer on connection ``kafka``, its librdkafka logs routed to ``logging``."""
    config = producer_config(kafka, **overrides)
    config.setdefault("logger", logging.getLogger("sluice.kafka.librdkafka"))
    return Producer(config)


def produce_waiting(producer: Producer, topic: str, key: bytes | None, value: bytes) -> None:
    """Produce one message; while the local queue is full, serve delivery reports and retry
    (a bulk load must slow down, not fail)."""
    while True:
        try:
            producer.produce(topic, key=key, value=value)
            return
        except BufferError:
            producer.poll(0.5)


def deliver(
    producer: Producer, messages: Iterable[Mapping[str, Any]], timeout: float
) -> str | None:
    """Produce each message (``producer.produce`` keyword arguments: topic, key, value, ...)
    and wait up to ``timeout`` seconds until Kafka has acknowledged them all.

    None when it has; else what went wrong (``"2 undelivered, errors [...]"``), for the
    caller to raise in its own terms. Errors of ``produce`` itself are the caller's too.
    """
    failures: list[str] = []

    def report(err, _msg) -> None:
        if err is not None:
            failures.append(err.str())

    for message in messages:
        producer.produce(**message, on_delivery=report)
    remaining = producer.flush(timeout)
    if remaining or failures:
        return f"{remaining} undelivered, errors {failures[:3]}"
    return None
