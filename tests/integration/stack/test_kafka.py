"""Kafka 4 (KRaft) of the native stack, through confluent-kafka."""

from __future__ import annotations

import uuid

import pytest
from confluent_kafka import Consumer, Producer

from sluice.kafka.admin import admin_client, ensure_topics
from sluice.kafka.topics import TOPICS, TopicSpec

pytestmark = pytest.mark.kafka


def test_design_topics_exist_with_their_partition_counts(stack, settings):
    metadata = admin_client(settings.kafka).list_topics(timeout=10)
    for spec in TOPICS:
        assert spec.name in metadata.topics, f"{spec.name} was not created by `stack up`"
        assert len(metadata.topics[spec.name].partitions) == spec.partitions


@pytest.fixture
def scratch_topic(stack, settings):
    admin = admin_client(settings.kafka)
    spec = TopicSpec(f"sluice.test.{uuid.uuid4().hex[:8]}", partitions=3)
    assert ensure_topics(admin, [spec]) == [f"created {spec.name}"]
    yield spec
    admin.delete_topics([spec.name])[spec.name].result(timeout=30)


def test_produce_and_consume_keep_every_message_and_key_order(settings, scratch_topic):
    delivered = []
    producer = Producer(
        {
            **settings.kafka,
            "enable.idempotence": True,
            "acks": "all",
        }
    )
    sent = [(f"shop:{i % 5}", f"message-{i}") for i in range(50)]
    for key, value in sent:
        producer.produce(
            scratch_topic.name,
            key=key,
            value=value,
            on_delivery=lambda err, msg: delivered.append((err, msg.partition())),
        )
    assert producer.flush(30) == 0
    assert [err for err, _ in delivered] == [None] * len(sent)

    consumer = Consumer(
        {
            **settings.kafka,
            "group.id": f"test-{uuid.uuid4().hex[:8]}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([scratch_topic.name])
    received: list[tuple[str, str, int]] = []
    try:
        for _ in range(200):
            msg = consumer.poll(0.5)
            if msg is None:
                if len(received) == len(sent):
                    break
                continue
            assert msg.error() is None, msg.error()
            received.append((msg.key().decode(), msg.value().decode(), msg.partition()))
    finally:
        consumer.close()

    assert sorted((k, v) for k, v, _ in received) == sorted(sent)
    # One key lives in one partition, and within it the order of production is kept.
    for key in {k for k, _ in sent}:
        partitions = {p for k, _, p in received if k == key}
        assert len(partitions) == 1
        assert [v for k, v, _ in received if k == key] == [v for k, v in sent if k == key]


def test_ensure_topics_is_idempotent_and_grows_partitions(settings, scratch_topic):
    admin = admin_client(settings.kafka)
    assert ensure_topics(admin, [scratch_topic]) == []
    grown = TopicSpec(scratch_topic.name, partitions=4)
    assert ensure_topics(admin, [grown]) == [f"grew {scratch_topic.name}"]
    partitions = admin.list_topics(scratch_topic.name, timeout=10).topics[scratch_topic.name]
    assert len(partitions.partitions) == 4
