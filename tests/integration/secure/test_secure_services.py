"""The secure stack refuses plaintext, and each component may do only its own work in Kafka."""

from __future__ import annotations

import pytest
from confluent_kafka import Consumer, KafkaError, Producer

from sluice.connections import kafka_client_config
from sluice.probes import ConnectionProblem, probe_kafka, probe_mongo, probe_postgres, probe_redis

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.mongo, pytest.mark.redis]


def test_postgres_refuses_a_login_without_tls(secure_stack):
    settings = secure_stack.settings(postgres_sslmode="disable")
    with pytest.raises(ConnectionProblem, match="refuses connections without TLS"):
        probe_postgres(settings.postgres_url)


def test_redis_closes_a_plaintext_connection(secure_stack):
    plain = secure_stack.settings().redis_url.replace("rediss://", "redis://").split("?")[0]
    with pytest.raises(ConnectionProblem, match="expects TLS"):
        probe_redis(plain)


def test_mongo_closes_a_plaintext_connection(secure_stack):
    plain = secure_stack.settings().mongo_url.split("?")[0]
    with pytest.raises(ConnectionProblem, match="expects TLS"):
        probe_mongo(plain, timeout=3)


def test_kafka_closes_a_plaintext_connection(secure_stack):
    plain = {"bootstrap.servers": secure_stack.env["SLUICE_KAFKA_BOOTSTRAP"]}
    with pytest.raises(ConnectionProblem, match="SLUICE_KAFKA_SECURITY_PROTOCOL"):
        probe_kafka(plain, timeout=3)


def produce(settings, topic: str) -> KafkaError | None:
    """Send one record as ``settings``' Kafka user; the delivery error, if any."""
    producer = Producer(kafka_client_config(settings.kafka, log_level=0))
    reports: list[KafkaError | None] = []
    producer.produce(topic, b"{}", on_delivery=lambda error, _msg: reports.append(error))
    producer.flush(20)
    return reports[0]


def first_read(settings, topic: str, group: str) -> KafkaError | None:
    """The error of a consumer's first poll on ``topic`` as ``group`` (None: it may read)."""
    consumer = Consumer(
        kafka_client_config(
            settings.kafka, **{"group.id": group, "auto.offset.reset": "earliest"}, log_level=0
        )
    )
    consumer.subscribe([topic])
    try:
        for _ in range(20):
            message = consumer.poll(1)
            if message is not None:
                return message.error()
        return None
    finally:
        consumer.close()


def test_a_spider_may_write_the_raw_topics(secure_stack):
    assert produce(secure_stack.settings("spider"), "sluice.raw.products") is None


def test_a_spider_may_not_write_the_dlq(secure_stack):
    error = produce(secure_stack.settings("spider"), "sluice.dlq")
    assert error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED


def test_a_spider_may_not_read_the_raw_topics(secure_stack):
    error = first_read(secure_stack.settings("spider"), "sluice.raw.products", "sluice.normalizer")
    assert error.code() == KafkaError.GROUP_AUTHORIZATION_FAILED


def test_a_processor_may_not_write_the_raw_topics(secure_stack):
    error = produce(secure_stack.settings("processor"), "sluice.raw.quotes")
    assert error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED


def test_a_processor_may_write_the_dlq(secure_stack):
    assert produce(secure_stack.settings("processor"), "sluice.dlq") is None


def test_a_processor_reads_the_raw_topics_in_a_sluice_group(secure_stack):
    assert produce(secure_stack.settings(), "sluice.raw.quotes") is None
    error = first_read(secure_stack.settings("processor"), "sluice.raw.quotes", "sluice.acl-test")
    assert error is None


def test_a_processor_may_not_read_in_a_foreign_group(secure_stack):
    error = first_read(secure_stack.settings("processor"), "sluice.raw.quotes", "someone-else")
    assert error.code() == KafkaError.GROUP_AUTHORIZATION_FAILED
