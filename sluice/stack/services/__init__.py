"""One module per native service: :func:`all_services` (the data stack) and
:func:`platform_services` (what `sluice up` runs on top), each in start order."""

from __future__ import annotations

from sluice.airflow_local import COMPONENTS
from sluice.settings import Settings
from sluice.stack.services.airflow import AirflowComponent
from sluice.stack.services.api_server import ApiServer
from sluice.stack.services.base import Service
from sluice.stack.services.demo_site import DemoSite
from sluice.stack.services.ferretdb import FerretDB
from sluice.stack.services.kafka import Kafka
from sluice.stack.services.monitoring import monitoring_services
from sluice.stack.services.postgres import Postgres
from sluice.stack.services.processor import Processor
from sluice.stack.services.redis import Redis
from sluice.stack.services.seaweedfs import SeaweedFS
from sluice.stack.services.webhooks import WebhookDeliverer
from sluice.stack.services.worker_pool import WorkerPoolService


def all_services(settings: Settings) -> list[Service]:
    """The data services of ``sluice stack``, in the order they are reported."""
    return [
        Postgres(settings),
        Redis(settings),
        Kafka(settings),
        FerretDB(settings),
        SeaweedFS(settings),
    ]


def platform_services(settings: Settings) -> list[Service]:
    """The platform's own long-running services that `sluice up` adds to the data stack."""
    return [
        DemoSite(settings),
        Processor(settings, "archiver"),
        Processor(settings, "normalizer"),
        WorkerPoolService(settings),
        ApiServer(settings),
        WebhookDeliverer(settings),
        *(AirflowComponent(settings, component) for component in COMPONENTS),
    ]


__all__ = ["all_services", "monitoring_services", "platform_services"]
