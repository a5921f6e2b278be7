"""The Kafka producer every publisher uses: idempotent, acks from all replicas, ordered per key."""

from __future__ import annotations

import logging
from typing import Any

from confluent_kafka import Producer

log = logging.getLogger(__name__)


def producer_config(bootstrap: str, **overrides: Any) -> dict[str, Any]:
    """Settings for a producer that never reorders or duplicates on retry.

    ``enable.idempotence`` implies acks=all and bounded in-flight requests; retries are
    infinite within ``delivery.timeout.ms`` (2 minutes), after which a delivery report
    carries the error and the caller must fail loudly.
    """
    return {
        "bootstrap.servers": bootstrap,
        "enable.idempotence": True,
        "acks": "all",
        "compression.type": "zstd",
        "linger.ms": 20,
        "delivery.timeout.ms": 120_000,
        "message.max.bytes": 8 * 1024 * 1024,
        **overrides,
    }


def make_producer(bootstrap: str, **overrides: Any) -> Producer:
    """An idempotent producer for ``bootstrap`` with librdkafka logs routed to ``logging``."""
    config = producer_config(bootstrap, **overrides)
    config.setdefault("logger", logging.getLogger("sluice.kafka.librdkafka"))
    return Producer(config)
