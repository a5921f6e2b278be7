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


def end_offsets(bootstrap: str, topics: list[str], timeout: float = 10.0) -> dict[str, int]:
    """``"topic:partition" -> high watermark`` now: a mark the consumers must pass."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "sluice.offsets"})
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


def behind(bootstrap: str, group: str, marks: dict[str, int], timeout: float = 10.0) -> int:
    """Messages before ``marks`` (from :func:`end_offsets`) that ``group`` has not committed."""
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False}
    )
    try:
        wanted = []
        for name in marks:
            topic, _, partition = name.rpartition(":")
            wanted.append(TopicPartition(topic, int(partition)))
        missing = 0
        for tp in consumer.committed(wanted, timeout=timeout):
            low = consumer.get_watermark_offsets(tp, timeout=timeout, cached=False)[0]
            position = tp.offset if tp.offset >= 0 else low
            missing += max(0, marks[f"{tp.topic}:{tp.partition}"] - position)
        return missing
    finally:
        consumer.close()
