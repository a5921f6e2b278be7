"""What a processor is: a handler that turns messages into records, and a sink that stores them.

The runtime (:mod:`processors.runtime`) owns the Kafka loop; a processor only says how to read
one message (:meth:`Handler.handle`) and how to store a batch durably (:meth:`Sink.write`).
A message the handler cannot accept is a :class:`Rejection` (it goes to the dead-letter queue);
a sink that cannot store is a :class:`SinkUnavailable` (the batch is retried, never dropped).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import Message


@dataclass(frozen=True)
class Origin:
    """Where a message came from: enough to find it again and to point at it in errors."""

    topic: str
    partition: int
    offset: int
    key: bytes | None

    @classmethod
    def of(cls, message: Message) -> Origin:
        """The coordinates of a consumed message."""
        return cls(message.topic(), message.partition(), message.offset(), message.key())

    def __str__(self) -> str:
        return f"{self.topic}[{self.partition}]@{self.offset}"


@dataclass(frozen=True)
class Rejection:
    """A message refused for a reason that retrying cannot fix."""

    origin: Origin
    stage: str
    reason: str
    error: str
    payload: bytes
    crawl_id: str | None = None
    headers: dict[str, bytes] = field(default_factory=dict)


@dataclass
class Batch:
    """The records and rejections a batch of messages produced."""

    records: list[Any] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)


class SinkUnavailable(Exception):
    """The store is unreachable or failing for a reason that is not the data's fault."""


class Handler(ABC):
    """Reads one message."""

    #: name of the stage in rejections and logs
    stage: str = ""

    @abstractmethod
    def handle(self, message: Message, batch: Batch) -> None:
        """Append the message's record(s) or its rejection to ``batch``."""


class Sink(ABC):
    """Stores batches durably and idempotently (a replayed batch changes nothing)."""

    @abstractmethod
    def write(self, batch: Batch) -> None:
        """Store every record (and move records the store refuses to ``batch.rejections``).

        Raises :class:`SinkUnavailable` when nothing could be stored for a transient reason.
        """

    def open(self) -> None:  # noqa: B027 - optional hook
        """Connect ahead of the first batch (the runtime calls it while the group forms).

        Raises :class:`SinkUnavailable` when the store cannot be reached yet; the first write
        then retries as any write does.
        """

    def after_commit(self, batch: Batch) -> None:  # noqa: B027 - optional hook
        """Called once the batch's offsets are committed (e.g. to bump cache versions)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""
