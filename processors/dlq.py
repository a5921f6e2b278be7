"""The dead-letter topic: what a processor refused, with why and where it came from.

Each dead letter is the original message bytes (key and value unchanged) with headers
``error``, ``stage``, ``reason``, ``original.topic``, ``original.partition``,
``original.offset`` (and ``crawl_id`` when known), so `sluice dlq redrive` can send it back.
"""

from __future__ import annotations

import logging

from confluent_kafka import KafkaException, Producer

from processors.base import Rejection, SinkUnavailable
from sluice.kafka.producer import deliver
from sluice.kafka.topics import DLQ

log = logging.getLogger(__name__)


def dead_letter_headers(rejection: Rejection) -> list[tuple[str, bytes]]:
    """The headers a dead letter carries."""
    origin = rejection.origin
    headers = [
        ("error", rejection.error.encode("utf-8", "replace")[:4000]),
        ("stage", rejection.stage.encode()),
        ("reason", rejection.reason.encode()),
        ("original.topic", origin.topic.encode()),
        ("original.partition", str(origin.partition).encode()),
        ("original.offset", str(origin.offset).encode()),
    ]
    if rejection.crawl_id:
        headers.append(("crawl_id", rejection.crawl_id.encode()))
    return headers


class DeadLetters:
    """Publishes rejections to the dead-letter topic and waits until Kafka has them."""

    def __init__(self, producer: Producer, topic: str = DLQ.name, timeout: float = 30.0) -> None:
        self.producer = producer
        self.topic = topic
        self.timeout = timeout

    def publish(self, rejections: list[Rejection]) -> None:
        """Produce every rejection; raise SinkUnavailable unless all are acknowledged."""
        if not rejections:
            return
        messages = (
            {
                "topic": self.topic,
                "key": rejection.origin.key,
                "value": rejection.payload,
                "headers": dead_letter_headers(rejection),
            }
            for rejection in rejections
        )
        try:
            problem = deliver(self.producer, messages, self.timeout)
        except (KafkaException, BufferError) as exc:
            raise SinkUnavailable(f"dead-letter topic {self.topic}: {exc}") from exc
        if problem:
            raise SinkUnavailable(f"dead-letter topic {self.topic}: {problem}")
        for rejection in rejections:
            log.info(
                "dead-lettered %s stage=%s reason=%s",
                rejection.origin,
                rejection.stage,
                rejection.reason,
            )
