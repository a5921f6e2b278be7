"""Processors on the real Kafka, FerretDB and PostgreSQL, on scratch topics of their own."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from sluice.kafka.admin import admin_client, ensure_topics
from sluice.kafka.topics import TopicSpec


@pytest.fixture
def scratch_topic(stack, settings) -> Iterator[str]:
    """A raw topic of this test's own, deleted afterwards."""
    admin = admin_client(settings.kafka)
    spec = TopicSpec(f"test.raw.{uuid.uuid4().hex[:10]}", partitions=3)
    ensure_topics(admin, [spec])
    yield spec.name
    admin.delete_topics([spec.name])[spec.name].result(timeout=30)


@pytest.fixture
def source() -> str:
    """A source name no other test uses, so rows never collide."""
    return f"test-{uuid.uuid4().hex[:8]}.localhost"
