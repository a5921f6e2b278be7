"""The spider worker pool (`sluice worker`) as a long-running platform service."""

from __future__ import annotations

import sys

import redis

from sluice.crawl.pool import HEARTBEAT
from sluice.stack import secure
from sluice.stack.progress import Progress
from sluice.stack.services.base import NotReady, Program, Service
from sluice.stack.services.monitoring import metrics_environment
from sluice.storage.redis import client


class WorkerPoolService(Service):
    """Starts Scrapy workers for crawls dispatched through Redis (e.g. by Airflow)."""

    name = "workers"

    def listen_addresses(self) -> list[tuple[str, int]]:
        return []

    def address(self) -> str:
        return f"{self.settings.worker_slots} slots"

    def install(self, progress: Progress) -> None:
        """Nothing to install: the spiders are part of Sluice."""

    def prepare(self, progress: Progress) -> None:
        """Nothing to prepare: workers log under the stack's logs/crawls/."""

    def program(self) -> Program:
        return Program(
            name=self.name,
            command=[sys.executable, "-m", "sluice", "worker"],
            directory=self.settings.project_dir,
            # The pool's workers inherit its environment: on the secure stack they publish
            # to Kafka as the spider user, which may only write the raw topics.
            environment={
                **metrics_environment(self.settings, self.name),
                **secure.component_environment(self.settings.stack_dir, "spider"),
            },
            # SIGTERM stops the workers, whose leases then return their requests to the queue.
            stopwaitsecs=45,
            startsecs=2,
        )

    def check_ready(self) -> str:
        try:
            beat = client(self.settings.redis_url, timeout=2).get(HEARTBEAT)
        except redis.RedisError as exc:
            raise NotReady(f"Redis: {exc}") from exc
        if beat is None:
            raise NotReady("no heartbeat from the worker pool yet")
        return f"worker pool alive ({self.settings.worker_slots} slots)"
