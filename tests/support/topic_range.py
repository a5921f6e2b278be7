"""Reading a range of a Kafka topic back, patiently enough for a broker that just restarted.

The drills read what a run left on a topic (the raw items of a crawl, the dead letters of a
stream) from marks taken before the run to the ends as they are when the read starts. A
broker the drill killed may not yet lead its partitions or serve its first fetch, so both
steps wait for it within a deadline instead of failing at once.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

from confluent_kafka import Consumer, KafkaException, Message, TopicPartition

from sluice.settings import Settings

#: how long a restarted broker may take to lead its partitions or answer a fetch
PATIENCE = 120.0


def _consumer(settings: Settings) -> Consumer:
    # A group of its own that never commits: reading back never moves anyone's offsets.
    return Consumer(
        {
            **settings.kafka,
            "group.id": f"sluice-range-{uuid.uuid4().hex[:8]}",
            "enable.auto.commit": False,
        }
    )


def _high(consumer: Consumer, topic: str, partition: int) -> int:
    deadline = time.monotonic() + PATIENCE
    while True:
        try:
            return consumer.get_watermark_offsets(TopicPartition(topic, partition), 10)[1]
        except KafkaException:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


def end_marks(settings: Settings, topic: str) -> list[TopicPartition]:
    """Each partition of ``topic`` at its end now: where a read of what comes next starts."""
    consumer = _consumer(settings)
    try:
        partitions = consumer.list_topics(topic, timeout=30).topics[topic].partitions
        return [TopicPartition(topic, p, _high(consumer, topic, p)) for p in partitions]
    finally:
        consumer.close()


def from_start(marks: list[TopicPartition]) -> list[TopicPartition]:
    """The same partitions at offset 0: the whole topic."""
    return [TopicPartition(tp.topic, tp.partition, 0) for tp in marks]


def messages(settings: Settings, starts: list[TopicPartition]) -> Iterator[Message]:
    """Every message from ``starts`` to each partition's end as it is when the read begins."""
    consumer = _consumer(settings)
    try:
        ends = {tp.partition: _high(consumer, tp.topic, tp.partition) for tp in starts}
        remaining = {tp.partition for tp in starts if tp.offset < ends[tp.partition]}
        consumer.assign(starts)
        silent_since = time.monotonic()
        while remaining:
            message = consumer.poll(1)
            if message is None:
                if time.monotonic() - silent_since > PATIENCE:
                    raise AssertionError(f"{starts[0].topic} stopped short of its end {ends}")
                continue
            silent_since = time.monotonic()
            if message.error():
                raise AssertionError(f"reading {message.topic()}: {message.error()}")
            if message.offset() + 1 >= ends[message.partition()]:
                remaining.discard(message.partition())
            yield message
    finally:
        consumer.close()
