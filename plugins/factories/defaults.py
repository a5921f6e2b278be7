"""What every Sluice DAG shares: its owner, retries with backoff, and tags."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import Asset

#: the team on call for Sluice's DAGs (shown as each task's owner in the UI)
OWNER = "data-platform"
#: a fixed start in the past: schedules begin here, backfills may reach back to it
START = datetime(2026, 1, 1)


def crawl_asset(spec) -> Asset:
    """The Asset a good run of crawl spec ``spec`` updates (one definition for the crawl DAG
    that updates it and the DAGs scheduled on it)."""
    return Asset(name=spec.asset_name, uri=spec.asset_uri)


def default_args(**overrides: Any) -> dict[str, Any]:
    """Task defaults: a named owner, three retries with exponential backoff, and a priority
    that puts backfill runs after fresh ones."""
    from plugins.priority import FreshRunsFirst

    return {
        "owner": OWNER,
        "retries": 3,
        "retry_delay": timedelta(seconds=30),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=10),
        "weight_rule": FreshRunsFirst(),
        **overrides,
    }


def tags(*extra: str) -> list[str]:
    """Tags for the UI's filter: every DAG is ``sluice`` plus what it is about."""
    return ["sluice", *extra]
