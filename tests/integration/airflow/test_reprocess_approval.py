"""A ``reprocess_raw`` run over more days than ``SLUICE_APPROVAL_MAX_DAYS`` waits for an
approval, as the real scheduler runs it: approved through the REST API it replays, rejected it
replays nothing.

The days are ones no test writes raw items for, and the source is this test's own, so the
replay itself has nothing to rewrite; what is under test is whether it runs.
"""

from __future__ import annotations

import time
import uuid
from urllib.parse import quote

import pytest

from tests.support.airflow import AirflowApi, unpaused

pytestmark = [pytest.mark.postgres, pytest.mark.mongo]

DAG_ID = "reprocess_raw"
#: ten days: over the default limit of seven
RANGE = {"day": "2001-01-01", "until": "2001-01-10"}


@pytest.fixture
def api(platform, settings):
    with unpaused(AirflowApi(settings), (DAG_ID,)) as client:
        yield client


def task_state(api: AirflowApi, run_id: str, task_id: str) -> str | None:
    return api.get(f"/dags/{DAG_ID}/dagRuns/{quote(run_id, safe='')}/taskInstances/{task_id}")[
        "state"
    ]


def waiting_for_approval(api: AirflowApi) -> str:
    """A run over ten days, once its approval waits for an answer; its run id."""
    conf = {**RANGE, "source": f"approval-{uuid.uuid4().hex[:8]}.localhost"}
    run_id = api.post(f"/dags/{DAG_ID}/dagRuns", {"logical_date": None, "conf": conf})["dag_run_id"]
    deadline = time.monotonic() + 180
    while (state := task_state(api, run_id, "approve")) != "awaiting_input":
        assert state not in ("failed", "skipped", "success"), f"approve ended {state}"
        assert time.monotonic() < deadline, f"approve still {state} after 180 s"
        time.sleep(2)
    return run_id


def answer(api: AirflowApi, run_id: str, option: str) -> dict[str, str]:
    """Answer the run's approval with ``option``; the state of each task once the run ended."""
    api.patch(
        f"/dags/{DAG_ID}/dagRuns/{quote(run_id, safe='')}/taskInstances/approve/-1/hitlDetails",
        {"chosen_options": [option]},
    )
    api.wait_runs(DAG_ID, [run_id], timeout=300)
    return {task: task_state(api, run_id, task) for task in ("plan", "approve", "reprocess")}


def test_an_approved_reprocess_over_many_days_replays_them(api):
    run_id = waiting_for_approval(api)
    assert answer(api, run_id, "Approve") == {
        "plan": "success",
        "approve": "success",
        "reprocess": "success",
    }


def test_a_rejected_reprocess_over_many_days_replays_nothing(api):
    run_id = waiting_for_approval(api)
    assert answer(api, run_id, "Reject") == {
        "plan": "success",
        "approve": "success",
        "reprocess": "skipped",
    }
