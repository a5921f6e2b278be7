"""Consumer lag: how far a consumer group's committed offsets are behind the topics' ends."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from confluent_kafka import Consumer, TopicPartition

from sluice.connections import kafka_client_config


def offset_reader(kafka: Mapping[str, Any], group: str) -> Consumer:
    """A consumer that only reads offsets: it never joins, subscribes or commits."""
    return Consumer(kafka_client_config(kafka, **{"group.id": group, "enable.auto.commit": False}))


def group_lag(
    kafka: Mapping[str, Any], group: str, topics: list[str], timeout: float = 10.0
) -> int:
    """Messages in ``topics`` that ``group`` has not committed yet (0 when caught up)."""
    consumer = offset_reader(kafka, group)
    try:
        partitions = [
            TopicPartition(topic, p)
            for topic in topics
            for p in consumer.list_topics(topic, timeout=timeout).topics[topic].partitions
        ]
        committed = consumer.committed(partitions, timeout=timeout)
        lag = 0
        for tp in committed:
            low, high = consumer.get_watermark_offsets(tp, timeout=timeout, cached=False)
            position = tp.offset if tp.offset >= 0 else low
            lag += max(0, high - position)
        return lag
    finally:
        consumer.close()


def end_offsets(
    kafka: Mapping[str, Any], topics: list[str], timeout: float = 10.0
) -> dict[str, int]:
    """``"topic:partition" -> high watermark`` now: a mark the consumers must pass."""
    consumer = offset_reader(kafka, "sluice.offsets")
    try:
        marks = {}
        for topic in topics:
            for p in consumer.list_topics(topic, timeout=timeout).topics[topic].partitions:
                high = consumer.get_watermark_offsets(
                    TopicPartition(topic, p), timeout=timeout, cached=False
                )[1]
                marks[f"{topic}:{p}"] = high
        return marks
    finally:
        consumer.close()


def committed_behind(consumer: Consumer, marks: dict[str, int], timeout: float = 10.0) -> int:
    """Messages before ``marks`` (from :func:`end_offsets`) that the group of ``consumer`` has
    not committed; ``consumer`` is an :func:`offset_reader` the caller keeps (a caller that asks
    again and again, even while a broker is down, need not build one each time)."""
    wanted = []
    for name in marks:
        topic, _, partition = name.rpartition(":")
        wanted.append(TopicPartition(topic, int(partition)))
    missing = 0
    for tp in consumer.committed(wanted, timeout=timeout):
        position = tp.offset
        if position < 0:
            # Nothing committed yet: the group would start at the partition's first offset.
            position = consumer.get_watermark_offsets(tp, timeout=timeout, cached=False)[0]
        missing += max(0, marks[f"{tp.topic}:{tp.partition}"] - position)
    return missing
