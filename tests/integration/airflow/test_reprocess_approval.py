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


def task_state(api: AirflowApi, run_id: str, task_id: str) -> str | None:
    return api.get(f"/dags/{DAG_ID}/dagRuns/{quote(run_id, safe='')}/taskInstances/{task_id}")[
        "state"
    ]


def waiting_for_approval(api: AirflowApi, run_ids: list[str]) -> None:
    """Until every run's approval has waited for an answer for a few seconds.

    An answer that lands while the task that parked itself is still exiting is lost to a race
    in Airflow 3.3 (the task is retried and asks again): a person never answers that fast.
    """
    deadline = time.monotonic() + 180
    for run_id in run_ids:
        waited = 0
        while waited < 2:
            state = task_state(api, run_id, "approve")
            assert state not in ("failed", "skipped", "success"), f"approve ended {state}"
            assert time.monotonic() < deadline, f"approve still {state} after 180 s"
            waited = waited + 1 if state == "awaiting_input" else 0
            time.sleep(2)


@pytest.fixture(scope="module")
def answered(platform, settings) -> dict[str, dict[str, str]]:
    """Two runs over ten days at once, one approved and one rejected through the REST API:
    by answer, the state of each task once its run ended."""
    with unpaused(AirflowApi(settings), (DAG_ID,)) as api:
        runs: dict[str, str] = {}
        try:
            for option in ("Approve", "Reject"):
                conf = {**RANGE, "source": f"approval-{uuid.uuid4().hex[:8]}.localhost"}
                body = {"logical_date": None, "conf": conf}
                runs[option] = api.post(f"/dags/{DAG_ID}/dagRuns", body)["dag_run_id"]
            waiting_for_approval(api, list(runs.values()))
            for option, run_id in runs.items():
                api.patch(
                    f"/dags/{DAG_ID}/dagRuns/{quote(run_id, safe='')}/taskInstances/approve/-1/"
                    "hitlDetails",
                    {"chosen_options": [option]},
                )
            api.wait_runs(DAG_ID, list(runs.values()), timeout=300)
            return {
                option: {t: task_state(api, run_id, t) for t in ("plan", "approve", "reprocess")}
                for option, run_id in runs.items()
            }
        finally:
            # A run left waiting for an answer would hold up the unpausing's clean-up.
            for run_id in runs.values():
                path = f"/dags/{DAG_ID}/dagRuns/{quote(run_id, safe='')}"
                if api.get(path)["state"] not in ("success", "failed"):
                    api.patch(path, {"state": "failed"})


def test_an_approved_reprocess_over_many_days_replays_them(answered):
    assert answered["Approve"] == {"plan": "success", "approve": "success", "reprocess": "success"}


def test_a_rejected_reprocess_over_many_days_replays_nothing(answered):
    assert answered["Reject"] == {"plan": "success", "approve": "success", "reprocess": "skipped"}
