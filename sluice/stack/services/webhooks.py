"""`sluice webhook run` as a long-running platform service: the change feed delivered to
every webhook (``sluice webhook add``)."""

from __future__ import annotations

import sys

from sluice.monitoring.ports import HOST, metrics_port
from sluice.stack.progress import Progress
from sluice.stack.services.base import Program, Service, http_ready
from sluice.stack.services.monitoring import metrics_environment


class WebhookDeliverer(Service):
    """The webhook deliverer, ready once it serves its metrics (it has connected by then)."""

    name = "webhooks"

    def listen_addresses(self) -> list[tuple[str, int]]:
        return [(HOST, metrics_port(self.settings.metrics_base_port, self.name))]

    def address(self) -> str:
        return f"http://{HOST}:{metrics_port(self.settings.metrics_base_port, self.name)}/metrics"

    def install(self, progress: Progress) -> None:
        """Nothing to install: the deliverer is part of Sluice."""

    def prepare(self, progress: Progress) -> None:
        """Nothing to prepare: `sluice up` migrates before the platform starts."""

    def program(self) -> Program:
        return Program(
            name=self.name,
            command=[sys.executable, "-m", "sluice", "webhook", "run"],
            directory=self.settings.project_dir,
            environment=metrics_environment(self.settings, self.name),
            # SIGTERM ends the delivery in hand (a retry's wait is cut short).
            stopwaitsecs=30,
        )

    def check_ready(self) -> str:
        http_ready(self.address())
        return self.address()
