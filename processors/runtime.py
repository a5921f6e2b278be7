"""The processor loop every Sluice consumer runs on: poll, handle, write, then commit.

Offsets are stored only after the writes they cover are durable (``enable.auto.offset.store``
is off) and committed synchronously after each batch, so a crash at any point replays at most
the batch in hand — and every sink write is an idempotent upsert, so a replay changes nothing.

- A message the handler refuses goes to the dead-letter topic (and the sink's rejected-items
  table); the loop keeps going.
- A sink that is unavailable (a database outage) costs no loop of its own: the batch is
  dropped unwritten, every assigned partition is paused and the batch's partitions are sought
  back to its first offsets; the one loop keeps polling (heartbeats, rebalances, the stop
  flag) and resumes after a growing backoff, reading the same messages again. Nothing is
  committed past unwritten data and nothing is dead-lettered for an outage.
- Writes run behind the loop: while one batch is being written (on the runtime's one writer
  thread), the next is polled and handled, so the process validates while the database
  writes. At most one batch is in flight; it is committed before the next is handed over, so
  commits stay in order and never pass an unwritten batch.
- A rebalance never strands a batch: a revocation first finishes and commits the batch in
  flight, and a commit the group refuses (the partitions moved meanwhile) leaves the batch to
  the new owner, which replays it into idempotent writes.
- SIGTERM (:meth:`Runtime.stop`) only sets a flag: the batch in flight is finished and
  committed; during an outage the loop sees the flag at its next poll and exits at once.
- Memory is bounded by the batch size and by librdkafka's prefetch limits.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from processors.base import Batch, Handler, Origin, Rejection, Sink, SinkUnavailable
from processors.dlq import DeadLetters
from processors.metrics import STATISTICS_INTERVAL_MS, GroupMetrics
from sluice.connections import kafka_client_config

log = logging.getLogger(__name__)


@dataclass
class RunStats:
    """What one :meth:`Runtime.run` did."""

    consumed: int = 0
    written: int = 0
    rejected: int = 0
    batches: int = 0
    sink_retries: int = 0
    reason: str = ""
    rejections_by_reason: dict[str, int] = field(default_factory=dict)


#: what the group coordinator answers a commit from a member whose partitions have moved on
_COMMIT_REFUSED_BY_REBALANCE = frozenset(
    {
        KafkaError.ILLEGAL_GENERATION,
        KafkaError.UNKNOWN_MEMBER_ID,
        KafkaError.REBALANCE_IN_PROGRESS,
        KafkaError._STATE,
    }
)


@dataclass
class InFlight:
    """A batch handed to the writer thread and not committed yet."""

    messages: list[Message]
    batch: Batch
    arrived: float
    written: Future


#: builds the consumer from its configuration (a test passes a scripted one)
ConsumerFactory = Callable[[dict[str, object]], Consumer]


@dataclass
class Backoff:
    """When the next write may be tried after failures: 0.5 s, doubling up to ``limit``."""

    limit: float
    first: float = 0.5
    delay: float = 0.0
    until: float | None = None

    def failed(self, now: float) -> float:
        """Record a failure at ``now``; returns the wait before the next attempt."""
        self.delay = self.first if not self.delay else min(self.delay * 2, self.limit)
        self.until = now + self.delay
        return self.delay

    def waiting(self, now: float) -> bool:
        """True while the wait after the last failure lasts."""
        return self.until is not None and now < self.until

    def succeeded(self) -> None:
        """A write went through: the next failure starts from the first delay again."""
        self.delay, self.until = 0.0, None


def consumer_config(kafka: Mapping[str, Any], group: str, **overrides: object) -> dict[str, object]:
    """A consumer that stores offsets only when told to and commits only when told to."""
    return {
        **kafka_client_config(kafka),
        "group.id": group,
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "auto.offset.reset": "earliest",
        "enable.partition.eof": False,
        # Bound what librdkafka prefetches, so a backlog of millions costs little memory.
        "queued.max.messages.kbytes": 32 * 1024,
        "fetch.max.bytes": 16 * 1024 * 1024,
        "max.partition.fetch.bytes": 8 * 1024 * 1024,
        "max.poll.interval.ms": 600_000,
        "session.timeout.ms": 10_000,
        "heartbeat.interval.ms": 2_000,
        "partition.assignment.strategy": "cooperative-sticky",
        **overrides,
    }


class Runtime:
    """Runs one handler + sink over ``topics`` as consumer group ``group``."""

    def __init__(
        self,
        *,
        kafka: Mapping[str, Any],
        group: str,
        topics: list[str],
        handler: Handler,
        sink: Sink,
        dead_letters: DeadLetters,
        batch_size: int = 500,
        poll_timeout: float = 1.0,
        backoff_max: float = 30.0,
        consumer_overrides: dict[str, object] | None = None,
        metrics: GroupMetrics | None = None,
        commit_before_write: bool = False,
        consumer_factory: ConsumerFactory = Consumer,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.kafka = kafka
        self.group = group
        self.topics = topics
        self.handler = handler
        self.sink = sink
        self.dead_letters = dead_letters
        self.batch_size = batch_size
        self.poll_timeout = poll_timeout
        self.consumer_overrides = consumer_overrides or {}
        self.metrics = metrics
        self.consumer_factory = consumer_factory
        self.clock = clock
        # Test-only: the ordering bug the fault drills must catch.
        self.commit_before_write = commit_before_write
        self._stopping = False
        self._backoff = Backoff(limit=backoff_max)
        self._paused = False
        self._consumer: Consumer | None = None
        self._in_flight: InFlight | None = None
        self._writer: ThreadPoolExecutor | None = None
        self._stats = RunStats()
        self._on_batch: Callable[[RunStats], None] | None = None

    def stop(self, *_: object) -> None:
        """Finish the batch in hand, commit, and return from :meth:`run` (signal-safe)."""
        self._stopping = True

    # -- rebalance callbacks -------------------------------------------------------------------
    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        log.info("group=%s assigned %s", self.group, _names(partitions))
        if self._paused:
            # New partitions stay paused until the sink is tried again.
            consumer.pause(partitions)

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        # Hand over nothing unwritten: the batch in flight is finished and committed while
        # its partitions are still ours (revocations come only from within a poll, when no
        # other batch is in hand).
        log.info("group=%s revoked %s", self.group, _names(partitions))
        self._settle(consumer)

    # -- the loop ----------------------------------------------------------------------------
    def run(
        self,
        max_messages: int | None = None,
        timeout: float | None = None,
        until_idle: float | None = None,
        on_batch: Callable[[RunStats], None] | None = None,
    ) -> RunStats:
        """Consume until stopped, ``max_messages`` consumed, ``timeout`` s passed, or — with
        ``until_idle`` — the group's partitions have no lag and nothing came for that long."""
        stats = self._stats = RunStats()
        self._on_batch = on_batch
        config = consumer_config(self.kafka, self.group, **self.consumer_overrides)
        if self.metrics is not None:
            config["statistics.interval.ms"] = STATISTICS_INTERVAL_MS
            config["stats_cb"] = self.metrics.statistics
        consumer = self.consumer_factory(config)
        self._consumer = consumer
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{self.group}-write")
        try:
            consumer.subscribe(self.topics, on_assign=self._on_assign, on_revoke=self._on_revoke)
            self._open_sink()
            stats.reason = self._loop(consumer, stats, max_messages, timeout, until_idle)
            self._settle(consumer)
        finally:
            try:
                # After an error the batch in flight is left uncommitted, to be replayed;
                # its write is still waited for, so the sink is not closed under it.
                self._writer.shutdown(wait=True)
                self._in_flight = None
                consumer.close()
            finally:
                self.sink.close()
                self._consumer = None
        return stats

    def _loop(
        self,
        consumer: Consumer,
        stats: RunStats,
        max_messages: int | None,
        timeout: float | None,
        until_idle: float | None,
    ) -> str:
        """The one loop: every poll serves heartbeats, rebalances, the stop flag and the
        backoff alike. Returns why it ended (the batch in flight is the caller's to settle)."""
        began = last_message = self.clock()
        while not self._stopping:
            now = self.clock()
            taken = stats.consumed + (len(self._in_flight.messages) if self._in_flight else 0)
            if timeout is not None and now - began > timeout:
                return "timeout"
            if max_messages is not None and taken >= max_messages:
                return "max_messages"
            if self._paused and not self._backoff.waiting(now):
                self._resume(consumer)
            want = self.batch_size
            if max_messages is not None:
                want = max(1, min(want, max_messages - taken))
            # With a batch in flight take only what is fetched already: when nothing is, the
            # batch in flight is settled at once rather than after a poll's wait.
            wait = 0 if self._in_flight else self.poll_timeout
            messages = consumer.consume(num_messages=want, timeout=wait)
            if not messages:
                if self._in_flight:
                    self._settle(consumer)
                    continue
                idle = until_idle is not None and self.clock() - last_message >= until_idle
                if idle and not self._paused and self._caught_up(consumer):
                    return "idle"
                continue
            if self._paused:
                # Paused partitions deliver nothing; a message now means the pause failed.
                raise RuntimeError(f"message {Origin.of(messages[0])} arrived while paused")
            last_message = self.clock()
            self._process(consumer, messages)
        return "stopped"

    def _open_sink(self) -> None:
        # The group forms in the background meanwhile, so connecting now costs no time.
        try:
            self.sink.open()
        except SinkUnavailable as exc:
            log.warning(
                "group=%s sink not reachable yet (%s); the first write retries", self.group, exc
            )

    def _process(self, consumer: Consumer, messages: list[Message]) -> None:
        """Handle one batch while the one before is written, settle that one, then hand this
        one to the writer. When the batch before found the sink down, both are sought back,
        to be read again once the backoff ends."""
        arrived = self.clock()
        if self.commit_before_write:
            # The bug itself: a crash from here until the write is done loses the batch.
            self._commit(consumer, messages)
        good = [message for message in messages if _delivered(message)]
        batch = self._handle(good)
        if not self._settle(consumer, unwritten=good):
            return
        written = self._writer.submit(self._write, batch)  # type: ignore[union-attr]
        self._in_flight = InFlight(good, batch, arrived, written)

    def _write(self, batch: Batch) -> None:
        """On the writer thread: store the batch, then dead-letter its rejections."""
        self.sink.write(batch)
        self.dead_letters.publish(batch.rejections)

    def _settle(self, consumer: Consumer, unwritten: Iterable[Message] = ()) -> bool:
        """Wait for the batch in flight; commit it, or back off when the sink was down
        (seeking back over it and ``unwritten``, handled after it). False after a back-off."""
        flight, self._in_flight = self._in_flight, None
        if flight is None:
            return True
        try:
            flight.written.result()
        except SinkUnavailable as exc:
            self._back_off(consumer, flight.messages + list(unwritten), self._stats, exc)
            return False
        self._backoff.succeeded()
        if not self.commit_before_write:
            self._commit(consumer, flight.messages)
        self.sink.after_commit(flight.batch)
        self._count(self._stats, flight.messages, flight.batch, self.clock() - flight.arrived)
        if self._on_batch is not None:
            self._on_batch(self._stats)
        return True

    def _handle(self, messages: list[Message]) -> Batch:
        batch = Batch()
        for message in messages:
            try:
                self.handler.handle(message, batch)
            except Exception as exc:  # a handler bug must not stop the stream or lose the record
                log.exception("handler failed on %s", Origin.of(message))
                batch.rejections.append(
                    Rejection(
                        origin=Origin.of(message),
                        stage=self.handler.stage,
                        reason=f"handler_error/{type(exc).__name__}",
                        error=str(exc)[:2000],
                        payload=message.value() or b"",
                    )
                )
        return batch

    def _back_off(
        self, consumer: Consumer, messages: list[Message], stats: RunStats, exc: Exception
    ) -> None:
        """Drop the unwritten batch: pause everything assigned and seek the batch's
        partitions back to its first offsets, so the same messages come again."""
        stats.sink_retries += 1
        if self.metrics is not None:
            self.metrics.sink_retry()
        delay = self._backoff.failed(self.clock())
        assignment = consumer.assignment()
        if not self._paused:
            consumer.pause(assignment)
            self._paused = True
        assigned = {(tp.topic, tp.partition) for tp in assignment}
        for tp in first_offsets(messages):
            # A partition revoked meanwhile starts from its committed offset at its new owner.
            if (tp.topic, tp.partition) in assigned:
                consumer.seek(tp)
        log.warning("group=%s sink unavailable (%s); retrying in %.1fs", self.group, exc, delay)

    def _resume(self, consumer: Consumer) -> None:
        self._paused = False
        consumer.resume(consumer.assignment())
        log.info("group=%s trying the sink again; partitions resumed", self.group)

    def _commit(self, consumer: Consumer, messages: list[Message]) -> None:
        """Store and commit the offsets after ``messages``, for partitions still assigned.

        A commit refused because the group moved on is logged, not raised: the writes are
        idempotent, and whoever owns the partitions now replays from the last commit.
        """
        assigned = {(tp.topic, tp.partition) for tp in consumer.assignment()}
        offsets = [tp for tp in next_offsets(messages) if (tp.topic, tp.partition) in assigned]
        try:
            if offsets:
                consumer.store_offsets(offsets=offsets)
            consumer.commit(asynchronous=False)
        except KafkaException as exc:
            error = exc.args[0] if exc.args else None
            code = error.code() if isinstance(error, KafkaError) else None
            if code == KafkaError._NO_OFFSET:
                return
            if code not in _COMMIT_REFUSED_BY_REBALANCE:
                raise
            log.warning(
                "group=%s commit refused by a rebalance (%s); the partitions' next owner "
                "replays the batch",
                self.group,
                error,
            )

    def _count(self, stats: RunStats, good: list[Message], batch: Batch, seconds: float) -> None:
        stats.consumed += len(good)
        stats.written += len(batch.records)
        stats.rejected += len(batch.rejections)
        stats.batches += 1
        reasons: dict[str, int] = {}
        for rejection in batch.rejections:
            reasons[rejection.reason] = reasons.get(rejection.reason, 0) + 1
        for reason, count in reasons.items():
            stats.rejections_by_reason[reason] = stats.rejections_by_reason.get(reason, 0) + count
        if self.metrics is not None:
            topics: dict[str, int] = {}
            for message in good:
                topics[message.topic()] = topics.get(message.topic(), 0) + 1
            self.metrics.batch(topics, len(batch.records), reasons, seconds)
        log.info(
            "group=%s batch messages=%d rows=%d rejected=%d",
            self.group,
            len(good),
            len(batch.records),
            len(batch.rejections),
        )

    def _caught_up(self, consumer: Consumer) -> bool:
        """True when every assigned partition's committed offset is at its end."""
        assignment = consumer.assignment()
        if not assignment:
            return False
        committed = consumer.committed(assignment, timeout=10)
        for tp in committed:
            _, high = consumer.get_watermark_offsets(tp, timeout=10, cached=False)
            position = tp.offset if tp.offset >= 0 else 0
            if position < high:
                return False
        return True


def _delivered(message: Message) -> bool:
    """True for a message; False for an end-of-partition event; raises on a consumer error."""
    error = message.error()
    if error is None:
        return True
    if error.code() == KafkaError._PARTITION_EOF:
        return False
    raise KafkaException(error)


def first_offsets(messages: Iterable[Message]) -> list[TopicPartition]:
    """Per partition, the offset of the first of ``messages`` (where a replay starts)."""
    first: dict[tuple[str, int], int] = {}
    for message in messages:
        key = (message.topic(), message.partition())
        first[key] = min(first.get(key, message.offset()), message.offset())
    return [TopicPartition(topic, part, offset) for (topic, part), offset in first.items()]


def next_offsets(messages: list[Message]) -> list[TopicPartition]:
    """Per partition, the offset after the last of ``messages`` (what a commit records)."""
    last: dict[tuple[str, int], int] = {}
    for message in messages:
        key = (message.topic(), message.partition())
        last[key] = max(last.get(key, -1), message.offset())
    return [TopicPartition(topic, part, offset + 1) for (topic, part), offset in last.items()]


def _names(partitions: list[TopicPartition]) -> str:
    return ",".join(f"{tp.topic}[{tp.partition}]" for tp in partitions) or "-"
