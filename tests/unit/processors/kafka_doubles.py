"""Stand-ins for confluent-kafka's Message and Consumer, for unit tests of pure loop logic.

:class:`ScriptedConsumer` keeps a log per partition, a position, a committed offset and a
paused flag, and plays the group: it assigns every partition on the first poll and can
revoke or assign partitions when a test says so. It implements only what the runtime calls.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from confluent_kafka import KafkaError, KafkaException, TopicPartition

TOPIC = "sluice.raw.products"


class FakeMessage:
    """The parts of a confluent_kafka.Message the processors read."""

    def __init__(
        self,
        value: bytes,
        offset: int = 7,
        key: bytes = b"k",
        partition: int = 1,
        topic: str = TOPIC,
    ):
        self._value, self._offset, self._key = value, offset, key
        self._partition, self._topic = partition, topic

    def value(self) -> bytes:
        return self._value

    def key(self) -> bytes:
        return self._key

    def topic(self) -> str:
        return self._topic

    def partition(self) -> int:
        return self._partition

    def offset(self) -> int:
        return self._offset

    def error(self) -> None:
        return None


@dataclass
class Partition:
    """One partition's log and this member's view of it."""

    log: list[bytes]
    position: int = 0
    committed: int | None = None
    stored: int | None = None
    paused: bool = False


@dataclass
class ScriptedConsumer:
    """A consumer group of one member over ``partitions`` (index -> values), on a fake clock.

    ``on_consume`` runs before every consume call with the call's number (from 1), so a test
    can stop the runtime, move partitions or break the next commit at a chosen moment.
    ``first`` names the partitions the first poll assigns (default: all).
    """

    partitions: dict[int, list[bytes]]
    first: set[int] | None = None
    clock: list[float] = field(default_factory=lambda: [0.0])
    on_consume: Callable[[ScriptedConsumer, int], None] | None = None
    state: dict[int, Partition] = field(default_factory=dict)
    assigned: set[int] = field(default_factory=set)
    commit_errors: list[int] = field(default_factory=list)
    closed: bool = False
    calls: int = 0

    def __post_init__(self) -> None:
        self.state = {n: Partition(list(log)) for n, log in self.partitions.items()}

    def now(self) -> float:
        """The fake clock, for the runtime's ``clock`` argument."""
        return self.clock[0]

    # -- what the runtime calls ----------------------------------------------------------------
    def subscribe(self, topics, on_assign, on_revoke) -> None:
        self._on_assign, self._on_revoke = on_assign, on_revoke

    def consume(self, num_messages: int, timeout: float) -> list[FakeMessage]:
        self.calls += 1
        if self.calls == 1:
            self.assign(set(self.state) if self.first is None else self.first)
        if self.on_consume is not None:
            self.on_consume(self, self.calls)
        out: list[FakeMessage] = []
        for n in sorted(self.assigned):
            part = self.state[n]
            while not part.paused and part.position < len(part.log) and len(out) < num_messages:
                out.append(FakeMessage(part.log[part.position], part.position, b"k", n))
                part.position += 1
        if not out:
            self.clock[0] += timeout
        return out

    def assignment(self) -> list[TopicPartition]:
        return [TopicPartition(TOPIC, n) for n in sorted(self.assigned)]

    def pause(self, partitions: list[TopicPartition]) -> None:
        for tp in partitions:
            self.state[tp.partition].paused = True

    def resume(self, partitions: list[TopicPartition]) -> None:
        for tp in partitions:
            self.state[tp.partition].paused = False

    def seek(self, tp: TopicPartition) -> None:
        if tp.partition not in self.assigned:
            raise KafkaException(KafkaError(KafkaError._STATE))
        self.state[tp.partition].position = tp.offset

    def store_offsets(self, offsets: list[TopicPartition]) -> None:
        for tp in offsets:
            if tp.partition not in self.assigned:
                raise KafkaException(KafkaError(KafkaError._STATE))
            self.state[tp.partition].stored = tp.offset

    def commit(self, asynchronous: bool = True) -> None:
        if self.commit_errors:
            raise KafkaException(KafkaError(self.commit_errors.pop(0)))
        stored = [n for n in self.assigned if self.state[n].stored is not None]
        if not stored:
            raise KafkaException(KafkaError(KafkaError._NO_OFFSET))
        for n in stored:
            self.state[n].committed = self.state[n].stored

    def committed(self, partitions: list[TopicPartition], timeout: float) -> list[TopicPartition]:
        return [
            TopicPartition(tp.topic, tp.partition, self.state[tp.partition].committed or -1001)
            for tp in partitions
        ]

    def get_watermark_offsets(self, tp: TopicPartition, timeout: float, cached: bool):
        return 0, len(self.state[tp.partition].log)

    def close(self) -> None:
        self.closed = True

    # -- what a test does to the group ---------------------------------------------------------
    def assign(self, partitions: set[int]) -> None:
        """Hand ``partitions`` to this member; each starts from its committed offset."""
        for n in partitions:
            self.state[n].position = self.state[n].committed or 0
            self.state[n].stored = None
        self.assigned |= partitions
        self._on_assign(self, [TopicPartition(TOPIC, n) for n in sorted(partitions)])

    def revoke(self, partitions: set[int]) -> None:
        """Take ``partitions`` away, as a rebalance that gives them to another member."""
        self._on_revoke(self, [TopicPartition(TOPIC, n) for n in sorted(partitions)])
        self.assigned -= partitions
        for n in partitions:
            self.state[n].paused = False
