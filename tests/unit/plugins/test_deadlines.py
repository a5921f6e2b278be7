"""The crawl DAGs' deadline: which alert each carries, and the miss its callback reads from the
context Airflow hands it (the callback itself runs in tests/integration/airflow)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from plugins.callbacks import deadline_miss
from plugins.factories.crawl import build_crawl_dag
from sluice.crawl.specs import CRAWLS
from sluice.monitoring.deadlines import DeadlineMiss


@pytest.mark.parametrize("spec", CRAWLS, ids=lambda s: s.spider)
def test_each_crawl_dag_is_due_its_specs_deadline_after_it_is_queued(spec):
    (alert,) = build_crawl_dag(spec).deadline
    assert (type(alert.reference).__name__, alert.interval, alert.callback.path) == (
        "DagRunQueuedAtDeadline",
        spec.deadline,
        "plugins.callbacks.record_missed_deadline",
    )


def test_the_miss_is_read_from_the_context_airflow_sends_as_json():
    context = {
        "dag_run": {"dag_id": "crawl_x", "dag_run_id": "r1", "queued_at": "2026-12-01T06:00:00Z"},
        "deadline": {"id": "d1", "deadline_time": "2026-12-01T12:00:00+00:00"},
    }
    assert deadline_miss(context) == DeadlineMiss(
        "crawl_x",
        "r1",
        datetime(2026, 12, 1, 12, tzinfo=UTC),
        datetime(2026, 12, 1, 6, tzinfo=UTC),
    )


def test_a_context_without_the_run_names_what_is_missing():
    with pytest.raises(ValueError, match="no 'dag_id'"):
        deadline_miss({"deadline": {"deadline_time": "2026-12-01T12:00:00+00:00"}})
