"""Which day a run of a daily DAG works on.

A cron schedule in Airflow 3 runs at its tick with ``logical_date`` equal to that tick
(``data_interval_start == data_interval_end``), so the day of the logical date is the day
still under way. Daily jobs (export, reprocessing) therefore work on the previous complete
UTC day: the run at 01:30 on day D exports D-1, from 00:00 to 23:59:59.999999. A run
triggered with no logical date (REST ``"logical_date": null``) counts from when it was queued
to run (``run_after``). A ``day`` param names the day explicitly instead.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from airflow.sdk.exceptions import AirflowException


def run_moment(context: dict[str, Any]) -> datetime:
    """The run's logical date (UTC), or when it was queued to run when it has none."""
    logical = context.get("logical_date")
    if logical is None:
        logical = context["dag_run"].run_after
    return logical.astimezone(UTC)


def previous_complete_day(context: dict[str, Any], day: str | None = None) -> date:
    """``day`` (ISO, from the run's ``day`` param) when given, else the UTC day before the
    run's moment: the last day wholly in the past when the run starts."""
    if day not in (None, "", "None"):
        try:
            return date.fromisoformat(str(day))
        except ValueError as exc:
            raise AirflowException(
                f"the `day` param must be a date like 2026-01-31, got {day!r}"
            ) from exc
    return run_moment(context).date() - timedelta(days=1)


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """``day`` from 00:00 UTC up to (not including) the next day's 00:00."""
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return start, start + timedelta(days=1)


def day_range(context: dict[str, Any], day: str | None, until: str | None) -> tuple[date, date]:
    """The first and last day a run works on: ``day`` (see :func:`previous_complete_day`)
    through ``until`` when given. A range that is reversed, or that reaches past the previous
    complete day (data still arriving), raises with both days named."""
    first = previous_complete_day(context, day)
    if until in (None, "", "None"):
        return first, first
    try:
        last = date.fromisoformat(str(until))
    except ValueError as exc:
        raise AirflowException(
            f"the `until` param must be a date like 2026-01-31, got {until!r}"
        ) from exc
    if last < first:
        raise AirflowException(f"`until` {last} is before `day` {first}: the range is reversed")
    latest = run_moment(context).date() - timedelta(days=1)
    if last > latest:
        raise AirflowException(
            f"`until` {last} is not a complete day yet: the latest complete day is {latest}"
        )
    return first, last
