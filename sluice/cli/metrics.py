"""Serving a command's Prometheus metrics, with a taken port reported as a usage error."""

from __future__ import annotations

import click
from prometheus_client import REGISTRY, CollectorRegistry

from sluice.monitoring.serve import MetricsPortBusy, serve_metrics
from sluice.settings import Settings


def serve_or_exit(settings: Settings, registry: CollectorRegistry = REGISTRY) -> bool:
    """:func:`serve_metrics`, exiting with its message when the port is taken."""
    try:
        return serve_metrics(settings, registry)
    except MetricsPortBusy as exc:
        raise click.ClickException(str(exc)) from exc
