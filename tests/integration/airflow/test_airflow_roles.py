"""Airflow with the FAB auth manager: each of Sluice's roles may do its work and no more.

A second api-server, with FAB, runs on a metadata database of its own (so a backfill made
here is never scheduled by the platform's scheduler), prepared by the code that
prepares one for `sluice up --auth fab`: migrated, roles synced; then its DAGs serialized.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from psycopg import sql

from sluice.airflow_local import airflow_environment, airflow_home, load_secrets
from sluice.airflow_roles import ANALYST, CI, DATA_ENGINEER
from sluice.settings import load_settings
from sluice.stack.progress import Progress
from sluice.stack.services.airflow import FIRST, AirflowComponent
from sluice.stack.services.postgres import Postgres
from tests.support.crawling import wait_for
from tests.support.network import free_port

pytestmark = [pytest.mark.postgres]


@dataclass(frozen=True)
class FabAirflow:
    """The FAB api-server's address and a password per role's user."""

    base: str
    passwords: dict[str, str]

    def token(self, role: str) -> str:
        """A JWT of the user holding ``role``."""
        answer = requests.post(
            f"{self.base}/auth/token",
            json={"username": role.lower(), "password": self.passwords[role]},
            timeout=30,
        )
        assert answer.status_code in (200, 201), answer.text
        return answer.json()["access_token"]

    def call(self, role: str, method: str, path: str, body: dict | None = None) -> int:
        """The status of ``method /api/v2<path>`` as the user of ``role``."""
        answer = requests.request(
            method,
            f"{self.base}/api/v2{path}",
            json=body,
            headers={"Authorization": f"Bearer {self.token(role)}"},
            timeout=60,
        )
        return answer.status_code


def _run(argv: list[str], env: dict[str, str], timeout: float = 600) -> None:
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{argv}:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"


@pytest.fixture(scope="module")
def fab_airflow(stack, settings, tmp_path_factory) -> Iterator[FabAirflow]:
    database = f"airflow_fab_{uuid.uuid4().hex[:8]}"
    port = free_port()
    overrides = {
        "SLUICE_AIRFLOW_AUTH": "fab",
        "SLUICE_AIRFLOW_URL": f"http://127.0.0.1:{port}",
        "SLUICE_AIRFLOW_DB_URL": settings.airflow_db_url.rsplit("/", 1)[0] + f"/{database}",
    }
    fab = load_settings({**os.environ, **overrides})
    env = {**os.environ, **overrides}
    env.update(airflow_environment(fab, load_secrets(airflow_home(fab))))
    owner = Postgres(settings).airflow.name
    with Postgres(settings).superuser_connection() as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(database), sql.Identifier(owner)
            )
        )
    log = tmp_path_factory.mktemp("fab") / "api-server.log"
    server = None
    try:
        python = sys.executable
        # What `sluice up --auth fab` does before starting Airflow: migrate, sync the roles.
        AirflowComponent(fab, FIRST).prepare(Progress())
        # What its dag-processor would do next: the DAGs into this database.
        _run([python, "-m", "airflow", "dags", "reserialize"], env)
        passwords = {role: secrets.token_urlsafe(12) for role in (ANALYST, DATA_ENGINEER, CI)}
        for role, password in passwords.items():
            _run(
                [
                    python, "-m", "airflow", "users", "create", "--username", role.lower(),
                    "--role", role, "--password", password, "--email", f"{role}@sluice.local",
                    "--firstname", role, "--lastname", "Test",
                ],
                env,
            )  # fmt: skip
        with log.open("w") as out:
            server = subprocess.Popen(
                [python, "-m", "airflow", "api-server"], env=env, stdout=out, stderr=out
            )
        base = fab.airflow_url

        def healthy() -> bool:
            assert server.poll() is None, Path(log).read_text()[-3000:]
            try:
                return requests.get(f"{base}/api/v2/monitor/health", timeout=5).ok
            except requests.ConnectionError:
                return False

        wait_for(healthy, 180, what="the FAB api-server")
        yield FabAirflow(base, passwords)
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)
        with Postgres(settings).superuser_connection() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
            )


def backfill(dag_id: str) -> dict:
    return {
        "dag_id": dag_id,
        "from_date": "2026-11-02T00:00:00Z",
        "to_date": "2026-11-03T00:00:00Z",
        "reprocess_behavior": "none",
        "max_active_runs": 1,
    }


def new_connection() -> dict:
    """A connection no other test makes (a refused test never leaves one behind for another)."""
    return {"connection_id": f"role_test_{uuid.uuid4().hex[:8]}", "conn_type": "http"}


def test_an_analyst_backfills_a_crawl(fab_airflow):
    assert fab_airflow.call(ANALYST, "POST", "/backfills", backfill("crawl_finance")) == 200


def test_an_analyst_may_not_edit_a_connection(fab_airflow):
    assert fab_airflow.call(ANALYST, "POST", "/connections", new_connection()) == 403


def test_an_analyst_may_not_backfill_the_exports(fab_airflow):
    assert fab_airflow.call(ANALYST, "POST", "/backfills", backfill("export_daily")) == 403


def test_an_analyst_may_not_read_the_variables(fab_airflow):
    assert fab_airflow.call(ANALYST, "GET", "/variables") == 403


def test_a_data_engineer_edits_connections(fab_airflow):
    connection = new_connection()
    status = fab_airflow.call(DATA_ENGINEER, "POST", "/connections", connection)
    fab_airflow.call(DATA_ENGINEER, "DELETE", f"/connections/{connection['connection_id']}")
    assert status == 201


def test_ci_reads_the_import_errors_of_a_deploy(fab_airflow):
    assert fab_airflow.call(CI, "GET", "/importErrors") == 200


def test_ci_may_not_trigger_a_dag(fab_airflow):
    run = {"logical_date": None}
    assert fab_airflow.call(CI, "POST", "/dags/crawl_finance/dagRuns", run) == 403
