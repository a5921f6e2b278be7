"""Serving a process's Prometheus registry on ``SLUICE_METRICS_HOST:SLUICE_METRICS_PORT``."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    disable_created_metrics,
    start_http_server,
)
from prometheus_client.multiprocess import MultiProcessCollector

from sluice.settings import ENV_PREFIX, Settings

log = logging.getLogger(__name__)


class MetricsPortBusy(RuntimeError):
    """The metrics port is taken; the message names it and the setting that moves it."""


def serve_metrics(settings: Settings, registry: CollectorRegistry = REGISTRY) -> bool:
    """Serve ``registry`` at ``/metrics`` from a daemon thread; False when the port is 0."""
    if not settings.metrics_port:
        return False
    # `*_created` series double what Prometheus stores and no alert or dashboard reads them.
    disable_created_metrics()
    try:
        start_http_server(settings.metrics_port, settings.metrics_host, registry=registry)
    except OSError as exc:
        raise MetricsPortBusy(
            f"cannot serve metrics on {settings.metrics_host}:{settings.metrics_port} ({exc}); "
            f"set {ENV_PREFIX}METRICS_PORT to a free port, or 0 for none"
        ) from exc
    log.info("metrics at http://%s:%s/metrics", settings.metrics_host, settings.metrics_port)
    return True


def fresh_multiprocess_dir(path: Path) -> Path:
    """An empty directory for prometheus-client's multiprocess files.

    Child processes (Scrapy workers) write their counters there; the files of an earlier run
    would otherwise be summed into this one's totals.
    """
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def multiprocess_registry(path: Path) -> CollectorRegistry:
    """A registry holding the summed counters of every child process writing under ``path``."""
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(path))
    return registry
