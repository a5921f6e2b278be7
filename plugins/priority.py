"""Backfill runs yield to fresh runs: a priority weight strategy that ranks them lower."""

from __future__ import annotations

from airflow.task.priority_strategy import PriorityWeightStrategy

#: what a task of a scheduled or manual run gets on top of its own weight
FRESH_RUN_BONUS = 100


def is_backfill(run_id: str) -> bool:
    """Backfill runs are named ``backfill__<logical date>`` by Airflow."""
    return run_id.startswith("backfill__")


class FreshRunsFirst(PriorityWeightStrategy):
    """The task's own priority weight, plus a bonus unless its run is part of a backfill.

    When executor slots or pool slots are short, the scheduler then runs today's work before
    a long backfill's, without making backfills wait when nothing else is queued.
    """

    def get_weight(self, ti) -> int:
        own = ti.task.priority_weight if getattr(ti, "task", None) is not None else 1
        return own if is_backfill(ti.run_id) else own + FRESH_RUN_BONUS
