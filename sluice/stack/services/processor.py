"""A processor group (raw archiver or normalizer) as a long-running platform service."""

from __future__ import annotations

import sys

from confluent_kafka import KafkaException

from sluice.kafka.admin import admin_client
from sluice.stack import secure
from sluice.stack.progress import Progress
from sluice.stack.services.base import NotReady, Program, Service
from sluice.stack.services.monitoring import metrics_environment


class Processor(Service):
    """`sluice process --group GROUP`, ready once it is a member of its consumer group."""

    start_timeout = 60.0

    def __init__(self, settings, group: str) -> None:
        super().__init__(settings)
        self.group = group
        self.name = group
        self.consumer_group = f"sluice.{group}"

    def listen_addresses(self) -> list[tuple[str, int]]:
        return []

    def address(self) -> str:
        return f"group {self.consumer_group}"

    def install(self, progress: Progress) -> None:
        """Nothing to install: processors are part of Sluice."""

    def prepare(self, progress: Progress) -> None:
        """Nothing to prepare: `sluice up` migrates before processors start."""

    def program(self) -> Program:
        return Program(
            name=self.name,
            command=[sys.executable, "-m", "sluice", "process", "--group", self.group],
            directory=self.settings.project_dir,
            environment={
                **metrics_environment(self.settings, self.group),
                **secure.component_environment(self.settings.stack_dir, "processor"),
            },
            # SIGTERM finishes the batch in hand and commits it.
            stopwaitsecs=60,
            startsecs=3,
            # A crash right after a restart (the machine, not the code) is still a crash to
            # recover from; a processor that cannot start at all fails `sluice up` at once.
            startretries=10,
        )

    def check_ready(self) -> str:
        admin = admin_client(self.settings.kafka, log_level="0")
        try:
            future = admin.describe_consumer_groups([self.consumer_group])[self.consumer_group]
            description = future.result(timeout=5)
        except KafkaException as exc:
            raise NotReady(str(exc)) from exc
        members = len(description.members)
        if not members:
            raise NotReady(f"no member in consumer group {self.consumer_group} yet")
        return f"consumer group {self.consumer_group}: {members} member(s)"
