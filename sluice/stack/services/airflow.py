"""Airflow 3 as four native services: api-server, scheduler, dag-processor and triggerer.

They share one environment (:mod:`sluice.airflow_local`): LocalExecutor, metadata in the stack's
PostgreSQL, the ``dags/`` folder as a LocalDagBundle, and the ``sluice_*`` connections built
from Sluice's settings. The api-server's health endpoint tells whether each component lives.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import urllib.request
from importlib.metadata import version
from urllib.parse import urlsplit

from sluice.airflow_local import airflow_environment, airflow_home, load_secrets, write_passwords
from sluice.stack.progress import Progress
from sluice.stack.services.base import NotReady, Program, Service
from sluice.storage.postgres import sqlalchemy_url

#: the component that migrates the metadata database before any of them starts
FIRST = "api-server"
#: the health endpoint's name for each component
HEALTH_KEYS = {"scheduler": "scheduler", "dag-processor": "dag_processor", "triggerer": "triggerer"}


def airflow_health(airflow_url: str, timeout: float = 3.0) -> dict:
    """The api-server's ``/api/v2/monitor/health`` answer (no login needed)."""
    url = f"{airflow_url.rstrip('/')}/api/v2/monitor/health"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - our URL
            return json.load(response)
    except (OSError, ValueError) as exc:
        raise NotReady(f"{url}: {exc}") from exc


class AirflowComponent(Service):
    """One Airflow component under the supervisor."""

    start_timeout = 180.0

    def __init__(self, settings, component: str) -> None:
        super().__init__(settings)
        self.component = component
        self.name = f"airflow-{component}"

    @property
    def environment(self) -> dict[str, str]:
        """Airflow's environment (reads, and on first use creates, the shared secrets)."""
        return airflow_environment(self.settings, load_secrets(airflow_home(self.settings)))

    def listen_addresses(self) -> list[tuple[str, int]]:
        if self.component != "api-server":
            return []
        api = urlsplit(self.settings.airflow_url)
        return [(api.hostname or "127.0.0.1", api.port or 8080)]

    def address(self) -> str:
        return self.settings.airflow_url if self.component == "api-server" else "airflow"

    def install(self, progress: Progress) -> None:
        """Airflow is a Python requirement of Sluice: `make venv` installs it."""

    def prepare(self, progress: Progress) -> None:
        """Bring the metadata database to this Airflow's schema (once per Airflow version)."""
        if self.component != FIRST:
            return
        home = airflow_home(self.settings)
        (home / "plugins").mkdir(parents=True, exist_ok=True)
        write_passwords(self.settings)
        # Once per Airflow version, auth manager (FAB brings tables of its own) and database.
        database = hashlib.sha256(sqlalchemy_url(self.settings.airflow_db_url).encode())
        marker = home / (
            f"migrated-{version('apache-airflow-core')}-{self.settings.airflow_auth}"
            f"-{database.hexdigest()[:12]}"
        )
        if not marker.is_file():
            self._migrate(progress, home)
            marker.touch()
        if self.settings.airflow_auth == "fab":
            progress.run(
                self.name,
                "syncing the Airflow roles (Analyst, DataEngineer, CI) and the admin login",
                [sys.executable, "-m", "sluice.airflow_roles"],
                log_file=home / "roles-sync.log",
                fix="read the log; the metadata database must be migrated (`sluice up`)",
                expect="a few seconds",
                env={**os.environ, **self.environment},
            )

    def _migrate(self, progress: Progress, home) -> None:
        progress.run(
            self.name,
            "migrating the Airflow metadata database",
            [sys.executable, "-m", "airflow", "db", "migrate"],
            log_file=home / "db-migrate.log",
            fix="check SLUICE_AIRFLOW_DB_URL and that PostgreSQL runs (`sluice stack status`)",
            expect="once per Airflow version, ~1 min",
            env={**os.environ, **self.environment},
        )

    def program(self) -> Program:
        return Program(
            name=self.name,
            # `sluice airflow` sets Airflow's environment and execs it, so the supervisor's
            # config holds no secrets.
            command=[sys.executable, "-m", "sluice", "airflow", self.component],
            directory=self.settings.project_dir,
            # Not a secret: which auth manager `sluice up --auth` chose for this stack.
            environment={"SLUICE_AIRFLOW_AUTH": self.settings.airflow_auth},
            stopwaitsecs=60,
            startsecs=3,
        )

    def check_ready(self) -> str:
        health = airflow_health(self.settings.airflow_url)
        if self.component == "api-server":
            database = health.get("metadatabase", {}).get("status")
            if database != "healthy":
                raise NotReady(f"metadata database {database}")
            return f"Airflow {version('apache-airflow-core')} UI and REST API"
        key = HEALTH_KEYS[self.component]
        entry = health.get(key, {})
        if entry.get("status") != "healthy":
            raise NotReady(f"{self.component} {entry.get('status') or 'not reporting'}")
        return f"{self.component} heartbeat {entry.get(f'latest_{key}_heartbeat', '?')}"
