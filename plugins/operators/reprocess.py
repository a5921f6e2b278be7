"""``reprocess_raw``'s steps: plan the days and raw items a run replays, then replay them.

A run over many days, or over many stored raw items, rewrites a lot of rows at once. The plan
step counts both and sends such a run through an approval first (``ApprovalOperator``, shown
under Required Actions in the UI); a small run goes straight to the replay. The limits are
``SLUICE_APPROVAL_MAX_DAYS`` and ``SLUICE_APPROVAL_MAX_ROWS``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from airflow.providers.standard.operators.branch import BaseBranchOperator
from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowException

from plugins.hooks.sluice import SluiceHook
from plugins.operators.days import day_bounds, day_range
from plugins.operators.platform import blank_to_none

#: the XCom key the plan is published under
PLAN = "plan"


def approval_reasons(days: int, raw_items: int, max_days: int, max_rows: int) -> list[str]:
    """Why a replay of ``days`` days holding ``raw_items`` raw items needs an approval
    (empty: it does not)."""
    reasons = []
    if days > max_days:
        reasons.append(f"{days} days is more than {max_days} (SLUICE_APPROVAL_MAX_DAYS)")
    if raw_items > max_rows:
        reasons.append(
            f"{raw_items:,} raw items is more than {max_rows:,} (SLUICE_APPROVAL_MAX_ROWS)"
        )
    return reasons


def replay_interval(first: date, last: date) -> tuple[Any, Any]:
    """From 00:00 UTC of ``first`` up to the 00:00 after ``last``."""
    return day_bounds(first)[0], day_bounds(last)[1]


class PlanReprocessOperator(BaseBranchOperator):
    """Counts what the run would replay, publishes the plan (XCom ``plan``), and follows
    ``approve_task`` when it is over a limit, else ``replay_task``.

    ``day``, ``until``, ``source`` and ``schema`` are the run's params (templated); a range
    that is reversed or reaches a day not yet complete fails here, before anything is written.
    """

    template_fields = ("day", "until", "source", "schema")

    def __init__(
        self,
        *,
        approve_task: str,
        replay_task: str,
        day: str | None = None,
        until: str | None = None,
        source: str | None = None,
        schema: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.approve_task = approve_task
        self.replay_task = replay_task
        self.day = day
        self.until = until
        self.source = source
        self.schema = schema

    def choose_branch(self, context: dict[str, Any]) -> str:
        from processors.reprocess import COLLECTION, interval_query

        first, last = day_range(context, self.day, self.until)
        source, schema = blank_to_none(self.source), blank_to_none(self.schema)
        hook = SluiceHook()
        settings = hook.settings()
        query = interval_query(*replay_interval(first, last), schema=schema, source=source)
        raw_items = hook.mongo_database()[COLLECTION].count_documents(query)
        days = (last - first).days + 1
        reasons = approval_reasons(
            days, raw_items, settings.approval_max_days, settings.approval_max_rows
        )
        plan = {
            "first": first.isoformat(),
            "last": last.isoformat(),
            "days": days,
            "raw_items": raw_items,
            "source": source,
            "schema": schema,
            "approval": reasons,
        }
        context["ti"].xcom_push(key=PLAN, value=plan)
        self.log.info("reprocess plan: %s", plan)
        return self.approve_task if reasons else self.replay_task


class ReprocessRawOperator(BaseOperator):
    """Rebuild processed rows from the MongoDB raw items of the planned days (no re-crawl).

    ``plan`` is :class:`PlanReprocessOperator`'s (templated). Rerunning a day changes no row,
    so backfills may overlap.
    """

    template_fields = ("plan",)

    def __init__(self, *, plan: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.plan = plan

    def execute(self, context: dict[str, Any]) -> dict[str, Any]:
        from processors.reprocess import ReprocessError, reprocess_with_settings

        first, last = date.fromisoformat(self.plan["first"]), date.fromisoformat(self.plan["last"])
        start, end = replay_interval(first, last)
        try:
            stats = reprocess_with_settings(
                SluiceHook().settings(),
                start,
                end,
                source=self.plan["source"],
                schema=self.plan["schema"],
            )
        except ReprocessError as exc:
            raise AirflowException(str(exc)) from exc
        self.log.info("reprocessed raw items fetched %s to %s: %s", first, last, stats.as_dict())
        return stats.as_dict()
