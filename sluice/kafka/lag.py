"""Consumer lag: how far a consumer group's committed offsets are behind the topics' ends."""

from __future__ import annotations

from confluent_kafka import Consumer, TopicPartition


def group_lag(bootstrap: str, group: str, topics: list[str], timeout: float = 10.0) -> int:
    """Messages in ``topics`` that ``group`` has not committed yet (0 when caught up)."""
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False}
    )
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
