"""Callbacks Airflow runs on Sluice's behalf (in the triggerer), importable by their path."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

from plugins.hooks.sluice import SluiceHook
from sluice.monitoring.deadlines import DeadlineMiss, record_miss

log = logging.getLogger(__name__)


def _moment(value: Any) -> datetime | None:
    """A datetime from the callback context, which may arrive as an ISO string."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def deadline_miss(context: dict[str, Any]) -> DeadlineMiss:
    """The miss described by the context Airflow gives a deadline callback."""
    run = context.get("dag_run") or {}
    deadline = context.get("deadline") or {}
    try:
        return DeadlineMiss(
            dag_id=run["dag_id"],
            run_id=run["dag_run_id"],
            deadline_at=_moment(deadline["deadline_time"]),
            queued_at=_moment(run.get("queued_at")),
        )
    except KeyError as exc:
        raise ValueError(f"deadline callback context has no {exc}: {sorted(context)}") from exc


def _record(miss: DeadlineMiss) -> None:
    with SluiceHook().postgres() as conn:
        record_miss(conn, miss)
        conn.commit()


async def record_missed_deadline(context: dict[str, Any] | None = None, **_: Any) -> str:
    """The crawl DAGs' ``DeadlineAlert`` callback: the miss goes to ``deadline_misses``.

    The state exporter turns that table into gauges and ``SluiceRunDeadlineMissed`` alerts
    on them, so a run that is late pages whoever watches the crawls. A failure here raises:
    Airflow logs it and marks the callback failed.
    """
    miss = deadline_miss(context or {})
    await asyncio.to_thread(_record, miss)
    log.warning("run %s of %s missed its deadline %s", miss.run_id, miss.dag_id, miss.deadline_at)
    return f"{miss.dag_id}/{miss.run_id} missed {miss.deadline_at.isoformat()}"
