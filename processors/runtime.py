"""The processor loop every Sluice consumer runs on: poll, handle, write, then commit.

Offsets are stored only after the writes they cover are durable (``enable.auto.offset.store``
is off) and committed synchronously after each batch, so a crash at any point replays at most
the batch in hand — and every sink write is an idempotent upsert, so a replay changes nothing.

- A message the handler refuses goes to the dead-letter topic (and the sink's rejected-items
  table); the loop keeps going.
- A sink that is unavailable (a database outage) is retried with backoff while the assigned
  partitions are paused: nothing is committed past unwritten data, nothing is dead-lettered.
- SIGTERM (:meth:`Runtime.stop`) only sets a flag: the batch in hand is finished and committed.
- Memory is bounded by the batch size and by librdkafka's prefetch limits.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
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
    ) -> None:
        self.kafka = kafka
        self.group = group
        self.topics = topics
        self.handler = handler
        self.sink = sink
        self.dead_letters = dead_letters
        self.batch_size = batch_size
        self.poll_timeout = poll_timeout
        self.backoff_max = backoff_max
        self.consumer_overrides = consumer_overrides or {}
        self.metrics = metrics
        # Test-only: the ordering bug the fault drills must catch.
        self.commit_before_write = commit_before_write
        self._stopping = False
        self._revoked = False
        self._backing_off = False
        self._consumer: Consumer | None = None

    def stop(self, *_: object) -> None:
        """Finish the batch in hand, commit, and return from :meth:`run` (signal-safe)."""
        self._stopping = True

    # -- rebalance callbacks -------------------------------------------------------------------
    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        log.info("group=%s assigned %s", self.group, _names(partitions))
        if self._backing_off:
            # New partitions stay paused until the sink is back.
            consumer.pause(partitions)

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        log.info("group=%s revoked %s", self.group, _names(partitions))
        self._revoked = True

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
        stats = RunStats()
        config = consumer_config(self.kafka, self.group, **self.consumer_overrides)
        if self.metrics is not None:
            config["statistics.interval.ms"] = STATISTICS_INTERVAL_MS
            config["stats_cb"] = self.metrics.statistics
        consumer = Consumer(config)
        self._consumer = consumer
        consumer.subscribe(self.topics, on_assign=self._on_assign, on_revoke=self._on_revoke)
        began = time.monotonic()
        last_message = time.monotonic()
        try:
            self._open_sink()
            while not self._stopping:
                if timeout is not None and time.monotonic() - began > timeout:
                    stats.reason = "timeout"
                    break
                if max_messages is not None and stats.consumed >= max_messages:
                    stats.reason = "max_messages"
                    break
                want = self.batch_size
                if max_messages is not None:
                    want = max(1, min(want, max_messages - stats.consumed))
                messages = consumer.consume(num_messages=want, timeout=self.poll_timeout)
                if not messages:
                    idle = until_idle is not None and time.monotonic() - last_message >= until_idle
                    if idle and self._caught_up(consumer):
                        stats.reason = "idle"
                        break
                    continue
                last_message = time.monotonic()
                self._process(consumer, messages, stats)
                if on_batch is not None:
                    on_batch(stats)
            else:
                stats.reason = "stopped"
        finally:
            consumer.close()
            self.sink.close()
            self._consumer = None
        return stats

    def _open_sink(self) -> None:
        # The group forms in the background meanwhile, so connecting now costs no time.
        try:
            self.sink.open()
        except SinkUnavailable as exc:
            log.warning(
                "group=%s sink not reachable yet (%s); the first write retries", self.group, exc
            )

    def _process(self, consumer: Consumer, messages: list[Message], stats: RunStats) -> None:
        arrived = time.monotonic()
        if self.commit_before_write:
            # The bug itself: a crash from here until the write is done loses the batch.
            self._commit(consumer, messages)
        batch = Batch()
        good: list[Message] = []
        for message in messages:
            error = message.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    continue
                raise KafkaException(error)
            good.append(message)
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
        self._revoked = False
        if not self._write_with_backoff(consumer, batch, stats):
            log.warning(
                "group=%s partitions revoked during an outage; batch left to the new owner",
                self.group,
            )
            return
        if not self.commit_before_write:
            self._commit(consumer, good)
        self.sink.after_commit(batch)
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
            self.metrics.batch(topics, len(batch.records), reasons, time.monotonic() - arrived)
        log.info(
            "group=%s batch messages=%d rows=%d rejected=%d",
            self.group,
            len(good),
            len(batch.records),
            len(batch.rejections),
        )

    @staticmethod
    def _commit(consumer: Consumer, messages: list[Message]) -> None:
        consumer.store_offsets(offsets=next_offsets(messages))
        consumer.commit(asynchronous=False)

    def _write_with_backoff(self, consumer: Consumer, batch: Batch, stats: RunStats) -> bool:
        """Write the batch (and its dead letters); during an outage, pause and retry.

        Returns False when the partitions were revoked meanwhile (the batch is then left
        uncommitted for whichever consumer gets them).
        """
        delay = 0.5
        while True:
            try:
                self.sink.write(batch)
                self.dead_letters.publish(batch.rejections)
            except SinkUnavailable as exc:
                stats.sink_retries += 1
                if self.metrics is not None:
                    self.metrics.sink_retry()
                if not self._backing_off:
                    self._backing_off = True
                    consumer.pause(consumer.assignment())
                log.warning(
                    "group=%s sink unavailable (%s); retrying in %.1fs", self.group, exc, delay
                )
                deadline = time.monotonic() + delay
                while time.monotonic() < deadline:
                    # Serve heartbeats and rebalances; paused partitions deliver nothing.
                    stray = consumer.poll(0.2)
                    if stray is not None and stray.error() is None:
                        raise RuntimeError(
                            f"message {Origin.of(stray)} arrived while paused"
                        ) from exc
                    if self._stopping and self._revoked:
                        break
                if self._revoked:
                    self._resume(consumer)
                    return False
                delay = min(delay * 2, self.backoff_max)
                continue
            self._resume(consumer)
            return True

    def _resume(self, consumer: Consumer) -> None:
        if self._backing_off:
            self._backing_off = False
            consumer.resume(consumer.assignment())
            log.info("group=%s sink is back; partitions resumed", self.group)

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


def next_offsets(messages: list[Message]) -> list[TopicPartition]:
    """Per partition, the offset after the last of ``messages`` (what a commit records)."""
    last: dict[tuple[str, int], int] = {}
    for message in messages:
        key = (message.topic(), message.partition())
        last[key] = max(last.get(key, -1), message.offset())
    return [TopicPartition(topic, part, offset + 1) for (topic, part), offset in last.items()]


def _names(partitions: list[TopicPartition]) -> str:
    return ",".join(f"{tp.topic}[{tp.partition}]" for tp in partitions) or "-"
