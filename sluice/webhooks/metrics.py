"""Prometheus series of a webhook deliverer (summed over replicas by Prometheus)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

from sluice.webhooks.delivery import Tally


class WebhookMetrics:
    """Changes delivered and dead-lettered, and failed attempts, by this deliverer."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.changes = Counter(
            "sluice_webhook_changes",
            "Changes this deliverer finished with, by outcome (delivered, dead_lettered).",
            ["outcome"],
            registry=registry,
        )
        self.failed_attempts = Counter(
            "sluice_webhook_failed_attempts",
            "Deliveries a receiver refused or did not answer (each is retried or dead-lettered).",
            registry=registry,
        )
        # Both outcomes exist from the start, so a rate over them never starts from nothing.
        for outcome in ("delivered", "dead_lettered"):
            self.changes.labels(outcome)

    def count(self, tally: Tally) -> None:
        """Count one round of deliveries."""
        self.changes.labels("delivered").inc(tally.delivered)
        self.changes.labels("dead_lettered").inc(tally.dead_lettered)
        self.failed_attempts.inc(tally.failed_attempts)
