"""Airflow from the tests: DAGs loaded from dags/, and the running api-server's REST API."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote


def load_dag(settings, dag_id: str):
    """``dag_id`` as the dag-processor would load it from ``dags/``."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(settings.project_dir / "dags"), safe_mode=False)
    assert not bag.import_errors, bag.import_errors
    return bag.dags[dag_id]


class AirflowApi:
    """A logged-in client of ``/api/v2`` (the simple auth manager's token)."""

    def __init__(self, settings) -> None:
        self.base = settings.airflow_url.rstrip("/")
        token = self._send(
            "POST",
            "/auth/token",
            {"username": settings.airflow_user, "password": settings.airflow_password},
            auth=False,
        )
        self.token = token["access_token"]

    def _send(self, method: str, path: str, body: Any = None, auth: bool = True) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        url = f"{self.base}{path}"
        request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - http(s)
        request.add_header("Content-Type", "application/json")
        if auth:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                text = response.read()
        except urllib.error.HTTPError as exc:
            raise AssertionError(f"{method} {path}: {exc.code} {exc.read()[:500]!r}") from exc
        return json.loads(text) if text else None

    def get(self, path: str) -> Any:
        """GET ``/api/v2<path>``."""
        return self._send("GET", f"/api/v2{path}")

    def post(self, path: str, body: Any) -> Any:
        """POST ``/api/v2<path>``."""
        return self._send("POST", f"/api/v2{path}", body)

    def patch(self, path: str, body: Any) -> Any:
        """PATCH ``/api/v2<path>``."""
        return self._send("PATCH", f"/api/v2{path}", body)

    def wait_for_dag(self, dag_id: str, timeout: float = 180) -> None:
        """Until the dag-processor has parsed ``dag_id``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.get(f"/dags?dag_id_pattern={dag_id}")["dags"]
            if any(d["dag_id"] == dag_id for d in found):
                return
            time.sleep(2)
        raise AssertionError(f"Airflow did not load {dag_id} within {timeout:.0f}s")

    def wait_runs(self, dag_id: str, run_ids: list[str], timeout: float = 900) -> dict[str, str]:
        """Until every run has ended; returns run id -> state."""
        deadline = time.monotonic() + timeout
        states: dict[str, str] = {}
        while time.monotonic() < deadline:
            states = {
                run_id: self.get(f"/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}")["state"]
                for run_id in run_ids
            }
            if all(s in ("success", "failed") for s in states.values()):
                return states
            time.sleep(3)
        raise AssertionError(f"{dag_id} runs not done within {timeout:.0f}s: {states}")


def run_dag(
    settings, dag_id: str, logical: datetime | None = None, retries: int | None = None, **conf
):
    """``dag.test()`` of ``dag_id``; the finished DagRun.

    ``retries`` replaces every task's: a run that must fail would only fail again after
    the retry delay. The DAG's deadline alerts are left out.
    """
    from airflow import settings as airflow_settings

    dag = load_dag(settings, dag_id)
    # Airflow 3.3's dag.test() looks the DAG's deadline alerts up by the database ids a parsed
    # DAG gets, which its in-memory copy lacks, and fails as the run succeeds. The scheduler
    # runs the deadlines (tests/integration/airflow/test_deadlines.py); here they are left out.
    dag.deadline = None
    if retries is not None:
        for task in dag.tasks:
            task.retries = retries
    try:
        return dag.test(logical_date=logical or datetime.now(UTC), run_conf=conf or None)
    finally:
        # End the run's database session: a transaction left open on its pooled connection
        # outlives a PostgreSQL restart that a later test makes (tests/integration/api), and
        # the next run would fail on that dead connection.
        airflow_settings.Session.remove()


@contextmanager
def unpaused(client: AirflowApi, dags: tuple[str, ...]) -> Iterator[AirflowApi]:
    """Run with ``dags`` unpaused; afterwards let their runs end and pause them again.

    Unpausing also starts each DAG's latest scheduled run: those must end before the DAGs are
    paused again, so no scheduled run competes with later tests.
    """
    for dag_id in dags:
        client.wait_for_dag(dag_id)
        client.patch(f"/dags/{dag_id}", {"is_paused": False})
    yield client
    for dag_id in dags:
        active = [
            r["dag_run_id"]
            for r in client.get(f"/dags/{dag_id}/dagRuns?state=queued&state=running")["dag_runs"]
        ]
        client.wait_runs(dag_id, active)
        client.patch(f"/dags/{dag_id}", {"is_paused": True})
