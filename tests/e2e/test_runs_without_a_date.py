"""Every DAG triggered through the REST API with ``"logical_date": null``, as CI jobs and
scripts trigger them: each succeeds, or, when it cannot do without a date, fails at once with a
message naming the param to set."""

from __future__ import annotations

import json
import time
import uuid
from urllib.parse import quote

import pytest

from sluice.storage.postgres import connect
from tests.support.airflow import AirflowApi, unpaused
from tests.support.scratch_rows import scoped

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.kafka, pytest.mark.mongo]

#: every DAG but the crawls (crawl_ecommerce is triggered without a date in
#: test_airflow_runs; crawl_finance needs one, below)
PLATFORM_DAGS = (
    "db_migrate",
    "dlq_redrive",
    "export_daily",
    "reprocess_raw",
    "nightly_backup",
    "data_quality",
    "pipeline_health",
    "crawl_requests",
    "export_quotes",
    "retention",
)


@pytest.fixture
def platform_dags(platform, settings):
    with unpaused(AirflowApi(settings), PLATFORM_DAGS) as client:
        yield client


@pytest.fixture
def finance_dag(platform, settings):
    with unpaused(AirflowApi(settings), ("crawl_finance",)) as client:
        yield client


def trigger(api: AirflowApi, dag_id: str, conf: dict) -> str:
    """A run of ``dag_id`` with no logical date; its run id."""
    return api.post(f"/dags/{dag_id}/dagRuns", {"logical_date": None, "conf": conf})["dag_run_id"]


def wait_for_log(api: AirflowApi, path: str, text: str, timeout: float = 30) -> str:
    """The task log at ``path`` once it holds ``text`` (a log may reach the API server a
    moment after its run has ended), else as it is after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        log = json.dumps(api.get(path)["content"])
        if text in log or time.monotonic() > deadline:
            return log
        time.sleep(1)


def test_every_platform_dag_succeeds_without_a_logical_date(platform_dags, settings, scratch):
    api = platform_dags
    with connect(settings.postgres_writer_url, autocommit=True) as conn:
        scratch.products(conn, scratch.finished_run(conn, ended_hours_ago=1, items=3), 3)
    # Each run's own params keep it to this test's rows, where it has a scope at all.
    confs = {dag_id: {} for dag_id in PLATFORM_DAGS} | {
        "dlq_redrive": {"reason": f"test-{uuid.uuid4().hex}"},
        "reprocess_raw": {"source": scratch.source},
        "data_quality": scoped(scratch),
        "pipeline_health": scoped(scratch),
        # Counts only: a test leaves the stack's older data to the stack's own schedule.
        "retention": {"dry_run": True},
    }
    runs = {dag_id: trigger(api, dag_id, conf) for dag_id, conf in confs.items()}
    states = {dag_id: api.wait_runs(dag_id, [run])[run] for dag_id, run in runs.items()}
    assert states == dict.fromkeys(PLATFORM_DAGS, "success")


def test_a_dated_crawl_without_a_date_fails_at_once_naming_the_param(finance_dag):
    api = finance_dag
    run = trigger(api, "crawl_finance", {})
    state = api.wait_runs("crawl_finance", [run])[run]
    path = f"/dags/crawl_finance/dagRuns/{quote(run, safe='')}/taskInstances/register_run"
    task = api.get(path)
    log = wait_for_log(api, f"{path}/logs/1", "set the `date` param")
    # One try: the run fails on its first attempt, not after its retries.
    assert (state, task["try_number"], "set the `date` param" in log) == ("failed", 1, True), log
