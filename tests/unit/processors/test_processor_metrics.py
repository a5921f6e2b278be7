"""The processors' series: what a committed batch and a librdkafka statistics report record."""

from __future__ import annotations

import json

import pytest
from prometheus_client import CollectorRegistry

from processors.metrics import ProcessorMetrics


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def normalizer(registry):
    return ProcessorMetrics(registry).for_group("normalizer")


def value(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, labels)


def test_a_batch_counts_per_topic_reason_and_dead_letters(registry, normalizer):
    normalizer.batch(
        {"sluice.raw.products": 7, "sluice.raw.quotes": 3},
        written=8,
        rejected_by_reason={"schema/price": 1, "unknown_schema": 1},
        seconds=0.2,
    )
    consumed = "sluice_processor_consumed_total"
    assert value(registry, consumed, group="normalizer", topic="sluice.raw.products") == 7
    assert value(registry, consumed, group="normalizer", topic="sluice.raw.quotes") == 3
    assert value(registry, "sluice_processor_written_total", group="normalizer") == 8
    rejected = "sluice_processor_rejected_total"
    assert value(registry, rejected, group="normalizer", reason="schema/price") == 1
    assert value(registry, "sluice_processor_dead_lettered_total", group="normalizer") == 2
    assert value(registry, "sluice_processor_batch_duration_seconds_count", group="normalizer") == 1
    bucket = "sluice_processor_batch_duration_seconds_bucket"
    assert value(registry, bucket, group="normalizer", le="0.1") == 0
    assert value(registry, bucket, group="normalizer", le="0.25") == 1


def test_a_fresh_group_exports_zeros_rather_than_nothing(registry, normalizer):
    # Rate-based alerts need the series to exist before the first dead letter.
    assert value(registry, "sluice_processor_dead_lettered_total", group="normalizer") == 0
    assert value(registry, "sluice_processor_sink_retries_total", group="normalizer") == 0


def test_lag_comes_from_assigned_partitions_only(registry, normalizer):
    report = {
        "topics": {
            "sluice.raw.products": {
                "partitions": {
                    "0": {"consumer_lag": 120},
                    "1": {"consumer_lag": 0},
                    "2": {"consumer_lag": -1},  # not assigned to this consumer
                    "-1": {"consumer_lag": -1},  # librdkafka's internal partition
                }
            }
        }
    }
    normalizer.statistics(json.dumps(report))
    lag = "sluice_processor_consumer_lag"
    labels = {"group": "normalizer", "topic": "sluice.raw.products"}
    assert value(registry, lag, partition="0", **labels) == 120
    assert value(registry, lag, partition="1", **labels) == 0
    assert value(registry, lag, partition="2", **labels) is None
    assert value(registry, lag, partition="-1", **labels) is None


def test_an_unreadable_statistics_report_is_logged_not_raised(normalizer, caplog):
    normalizer.statistics("{not json")
    assert "unreadable librdkafka statistics" in caplog.text


def test_groups_share_one_registry_by_label(registry):
    metrics = ProcessorMetrics(registry)
    metrics.for_group("archiver").sink_retry()
    metrics.for_group("normalizer").sink_retry()
    metrics.for_group("normalizer").sink_retry()
    retries = "sluice_processor_sink_retries_total"
    assert value(registry, retries, group="archiver") == 1
    assert value(registry, retries, group="normalizer") == 2
