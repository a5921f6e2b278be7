"""Which day a daily DAG's run works on: the previous complete UTC day, or its `day` param
(through its `until` param, for a range)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from airflow.sdk.exceptions import AirflowException

from plugins.operators.days import day_bounds, day_range, previous_complete_day


def context(logical: datetime | None, run_after: datetime | None = None) -> dict:
    return {"logical_date": logical, "dag_run": SimpleNamespace(run_after=run_after)}


@pytest.mark.parametrize(
    ("logical", "day"),
    [
        (datetime(2026, 3, 15, 1, 30, tzinfo=UTC), date(2026, 3, 14)),  # export_daily's tick
        (datetime(2026, 3, 15, 3, 0, tzinfo=UTC), date(2026, 3, 14)),  # reprocess_raw's tick
        (datetime(2026, 3, 1, 0, 0, tzinfo=UTC), date(2026, 2, 28)),  # across a month
        # 23:30 on the 14th in New York is 04:30 UTC on the 15th: the UTC day counts.
        (datetime(2026, 3, 14, 23, 30, tzinfo=timezone(timedelta(hours=-5))), date(2026, 3, 14)),
    ],
)
def test_a_scheduled_run_works_on_the_previous_complete_utc_day(logical, day):
    assert previous_complete_day(context(logical)) == day


def test_a_run_without_a_logical_date_counts_from_when_it_was_queued():
    queued = datetime(2026, 3, 15, 9, 12, tzinfo=UTC)
    assert previous_complete_day(context(None, run_after=queued)) == date(2026, 3, 14)


@pytest.mark.parametrize("blank", [None, "", "None"])
def test_a_blank_day_param_means_the_previous_day(blank):
    assert previous_complete_day(context(datetime(2026, 3, 15, tzinfo=UTC)), blank) == date(
        2026, 3, 14
    )


def test_the_day_param_names_the_day():
    logical = datetime(2026, 3, 15, 1, 30, tzinfo=UTC)
    assert previous_complete_day(context(logical), "2026-01-31") == date(2026, 1, 31)


def test_a_day_param_that_is_not_a_date_is_refused_by_name():
    with pytest.raises(AirflowException, match=r"the `day` param must be a date.*'31/01/2026'"):
        previous_complete_day(context(datetime(2026, 3, 15, tzinfo=UTC)), "31/01/2026")


def test_a_day_runs_from_midnight_to_the_next_midnight_utc():
    assert day_bounds(date(2026, 3, 14)) == (
        datetime(2026, 3, 14, tzinfo=UTC),
        datetime(2026, 3, 15, tzinfo=UTC),
    )


AT_0300 = datetime(2026, 3, 15, 3, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("day", "until", "days"),
    [
        (None, None, (date(2026, 3, 14), date(2026, 3, 14))),
        ("2026-03-01", "None", (date(2026, 3, 1), date(2026, 3, 1))),
        ("2026-03-01", "2026-03-14", (date(2026, 3, 1), date(2026, 3, 14))),
    ],
)
def test_a_range_runs_from_day_through_until(day, until, days):
    assert day_range(context(AT_0300), day, until) == days


@pytest.mark.parametrize(
    ("day", "until", "message"),
    [
        ("2026-03-10", "2026-03-01", "`until` 2026-03-01 is before `day` 2026-03-10"),
        ("2026-03-10", "2026-03-15", "`until` 2026-03-15 is not a complete day yet"),
        ("2026-03-10", "next week", "the `until` param must be a date"),
    ],
)
def test_a_range_reversed_unfinished_or_unreadable_is_refused_by_name(day, until, message):
    with pytest.raises(AirflowException, match=message):
        day_range(context(AT_0300), day, until)
