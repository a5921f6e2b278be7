"""``sluice exporter``: serve the platform's state (crawls, data quality, backups) to Prometheus."""

from __future__ import annotations

import logging
import signal
import threading

import click

from sluice.settings import ENV_PREFIX, Settings

log = logging.getLogger(__name__)


@click.command("exporter")
@click.pass_obj
def exporter(settings: Settings) -> None:
    """Serve gauges read from PostgreSQL at each scrape, until stopped (SIGTERM)."""
    from prometheus_client import CollectorRegistry

    from sluice.cli.metrics import serve_or_exit
    from sluice.monitoring.state import StateCollector
    from sluice.storage import postgres

    if not settings.metrics_port:
        raise click.UsageError(f"set {ENV_PREFIX}METRICS_PORT: the port to serve /metrics on")
    registry = CollectorRegistry()
    registry.register(
        StateCollector(lambda: postgres.connect(settings.postgres_reader_url, timeout=5))
    )
    serve_or_exit(settings, registry)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    stopped.wait()
    log.info("state exporter stopped")
