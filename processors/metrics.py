"""Prometheus series of the processors: consumed, written, rejected, dead-lettered, batch
latency, sink retries, and consumer lag per partition from librdkafka's statistics."""

from __future__ import annotations

import json
import logging

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram

log = logging.getLogger(__name__)

#: How often librdkafka reports its statistics (and so the lag), in milliseconds.
STATISTICS_INTERVAL_MS = 10_000


class ProcessorMetrics:
    """The series of every processor group in one process (labelled by ``group``)."""

    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        self.consumed = Counter(
            "sluice_processor_consumed_total",
            "Messages consumed and committed, by group and topic.",
            ["group", "topic"],
            registry=registry,
        )
        self.written = Counter(
            "sluice_processor_written_total",
            "Records the group's sink stored.",
            ["group"],
            registry=registry,
        )
        self.rejected = Counter(
            "sluice_processor_rejected_total",
            "Messages the group refused, by reason.",
            ["group", "reason"],
            registry=registry,
        )
        self.dead_lettered = Counter(
            "sluice_processor_dead_lettered_total",
            "Messages the group published to the dead-letter topic.",
            ["group"],
            registry=registry,
        )
        self.batch_duration = Histogram(
            "sluice_processor_batch_duration_seconds",
            "Time from a batch's arrival to its commit.",
            ["group"],
            registry=registry,
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
        )
        self.sink_retries = Counter(
            "sluice_processor_sink_retries_total",
            "Writes retried because the sink was unavailable.",
            ["group"],
            registry=registry,
        )
        self.lag = Gauge(
            "sluice_processor_consumer_lag",
            "Messages between the group's committed offset and the partition's end.",
            ["group", "topic", "partition"],
            registry=registry,
        )

    def for_group(self, group: str) -> GroupMetrics:
        """The series of one group, as its runtime records them."""
        return GroupMetrics(self, group)


class GroupMetrics:
    """What one processor runtime records after each batch and statistics report."""

    def __init__(self, metrics: ProcessorMetrics, group: str) -> None:
        self.metrics = metrics
        self.group = group
        # Touch the unlabelled-by-reason series, so a fresh process exports zeros, not gaps.
        for series in (metrics.written, metrics.dead_lettered, metrics.sink_retries):
            series.labels(group)

    def batch(
        self,
        consumed_by_topic: dict[str, int],
        written: int,
        rejected_by_reason: dict[str, int],
        seconds: float,
    ) -> None:
        """Record one committed batch."""
        m = self.metrics
        for topic, count in consumed_by_topic.items():
            m.consumed.labels(self.group, topic).inc(count)
        m.written.labels(self.group).inc(written)
        for reason, count in rejected_by_reason.items():
            m.rejected.labels(self.group, reason).inc(count)
        m.dead_lettered.labels(self.group).inc(sum(rejected_by_reason.values()))
        m.batch_duration.labels(self.group).observe(seconds)

    def sink_retry(self) -> None:
        """Record one write retried during a sink outage."""
        self.metrics.sink_retries.labels(self.group).inc()

    def statistics(self, report: str) -> None:
        """Take the lag per partition from one librdkafka statistics report (JSON)."""
        try:
            topics = json.loads(report).get("topics", {})
        except ValueError as exc:
            log.warning("group=%s: unreadable librdkafka statistics (%s)", self.group, exc)
            return
        for topic, detail in topics.items():
            for partition, numbers in detail.get("partitions", {}).items():
                lag = numbers.get("consumer_lag", -1)
                # -1 is librdkafka's internal UA partition, and "unknown" for partitions it does
                # not fetch (not assigned here): exporting those would invent lag.
                if partition == "-1" or lag < 0:
                    continue
                self.metrics.lag.labels(self.group, topic, partition).set(lag)
