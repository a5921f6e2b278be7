"""What `sluice up --with-monitoring` adds: Prometheus (Debian package) scraping every local
component, the PostgreSQL and Redis exporters (Debian packages), statsd_exporter bridging
Airflow's StatsD metrics (built once from the Go module proxy), and `sluice exporter`.

Passwords never enter the supervisor's configuration: the exporters read them from files
under ``.stack/`` that only the owner can read.
"""

from __future__ import annotations

import json
import shutil
import sys
import urllib.request
from pathlib import Path
from urllib.parse import unquote, urlsplit

import yaml

from sluice.monitoring.ports import (
    HOST,
    METRICS_PORT_OFFSETS,
    POSTGRES_EXPORTER_PORT,
    REDIS_EXPORTER_PORT,
    STATSD_EXPORTER_PORT,
    STATSD_PORT,
    metrics_port,
)
from sluice.private_files import write_private
from sluice.settings import Settings
from sluice.stack.golang import GoBuild
from sluice.stack.progress import Progress
from sluice.stack.services.base import Program, Service, http_ready, require_executable

STATSD_EXPORTER_BUILD = GoBuild(
    asset="statsd_exporter",
    name="statsd_exporter",
    files=("go.mod", "go.sum", "tools.go"),
    package="github.com/prometheus/statsd_exporter",
    what="statsd_exporter 0.28",
    expect="first run only, ~30 s",
)
#: Local scrapes are frequent so a demo crawl shows up within seconds.
SCRAPE_INTERVAL = "5s"


def scrape_config(settings: Settings) -> dict:
    """Prometheus' configuration for the native stack: one job per local component."""
    api = urlsplit(settings.api_url)
    prometheus = urlsplit(settings.prometheus_url)
    targets = {
        "api": f"{api.hostname}:{api.port or 80}",
        **{
            name: f"{HOST}:{metrics_port(settings.metrics_base_port, name)}"
            for name in METRICS_PORT_OFFSETS
        },
        "airflow": f"{HOST}:{STATSD_EXPORTER_PORT}",
        "postgres": f"{HOST}:{POSTGRES_EXPORTER_PORT}",
        "redis": f"{HOST}:{REDIS_EXPORTER_PORT}",
        "prometheus": f"{prometheus.hostname}:{prometheus.port or 9090}",
    }
    return {
        "global": {
            "scrape_interval": SCRAPE_INTERVAL,
            "evaluation_interval": SCRAPE_INTERVAL,
            "external_labels": {"stack": "native"},
        },
        "rule_files": [str(settings.project_dir / "monitoring" / "rules" / "*.rules.yml")],
        "scrape_configs": [
            {"job_name": job, "static_configs": [{"targets": [target]}]}
            for job, target in targets.items()
        ],
    }


class Prometheus(Service):
    """Prometheus at SLUICE_PROMETHEUS_URL, with the alert rules of ``monitoring/rules``."""

    name = "prometheus"

    def listen_addresses(self) -> list[tuple[str, int]]:
        parts = urlsplit(self.settings.prometheus_url)
        return [(parts.hostname or HOST, parts.port or 9090)]

    def address(self) -> str:
        return self.settings.prometheus_url

    def install(self, progress: Progress) -> None:
        require_executable(self.name, "prometheus", "prometheus", "PATH")

    def prepare(self, progress: Progress) -> None:
        (self.data_dir / "data").mkdir(parents=True, exist_ok=True)
        config = yaml.safe_dump(scrape_config(self.settings), sort_keys=False)
        (self.data_dir / "prometheus.yml").write_text(config, encoding="utf-8")

    def program(self) -> Program:
        host, port = self.listen_addresses()[0]
        return Program(
            name=self.name,
            command=[
                shutil.which("prometheus") or "prometheus",
                f"--config.file={self.data_dir / 'prometheus.yml'}",
                f"--storage.tsdb.path={self.data_dir / 'data'}",
                "--storage.tsdb.retention.time=7d",
                f"--web.listen-address={host}:{port}",
                # `sluice up` rewrites the config; a POST to /-/reload picks it up.
                "--web.enable-lifecycle",
            ],
            directory=self.data_dir,
            stopwaitsecs=30,
        )

    def check_ready(self) -> str:
        http_ready(f"{self.settings.prometheus_url.rstrip('/')}/-/ready")
        return f"Prometheus {self.settings.prometheus_url} (alerts at /alerts)"

    def bootstrap(self, progress: Progress) -> None:
        # An edited rule file or a changed address takes effect without a restart.
        request = urllib.request.Request(  # noqa: S310 - our URL
            f"{self.settings.prometheus_url.rstrip('/')}/-/reload", method="POST"
        )
        with urllib.request.urlopen(request, timeout=10):  # noqa: S310
            pass


class PostgresExporter(Service):
    """prometheus-postgres-exporter, connected as the owner role."""

    name = "postgres-exporter"

    def listen_addresses(self) -> list[tuple[str, int]]:
        return [(HOST, POSTGRES_EXPORTER_PORT)]

    def address(self) -> str:
        return f"http://{HOST}:{POSTGRES_EXPORTER_PORT}/metrics"

    def install(self, progress: Progress) -> None:
        require_executable(
            self.name, "prometheus-postgres-exporter", "prometheus-postgres-exporter", "PATH"
        )

    def prepare(self, progress: Progress) -> None:
        parts = urlsplit(self.settings.postgres_url)
        write_private(self.data_dir / "password", unquote(parts.password or ""))

    def program(self) -> Program:
        parts = urlsplit(self.settings.postgres_url)
        return Program(
            name=self.name,
            command=[
                shutil.which("prometheus-postgres-exporter") or "prometheus-postgres-exporter",
                f"--web.listen-address={HOST}:{POSTGRES_EXPORTER_PORT}",
            ],
            directory=self.data_dir,
            environment={
                "DATA_SOURCE_URI": f"{parts.hostname}:{parts.port or 5432}{parts.path}"
                "?sslmode=disable",
                "DATA_SOURCE_USER": unquote(parts.username or ""),
                "DATA_SOURCE_PASS_FILE": str(self.data_dir / "password"),
            },
        )

    def check_ready(self) -> str:
        http_ready(self.address())
        return self.address()


class RedisExporter(Service):
    """prometheus-redis-exporter for the stack's Redis."""

    name = "redis-exporter"

    def listen_addresses(self) -> list[tuple[str, int]]:
        return [(HOST, REDIS_EXPORTER_PORT)]

    def address(self) -> str:
        return f"http://{HOST}:{REDIS_EXPORTER_PORT}/metrics"

    def install(self, progress: Progress) -> None:
        require_executable(
            self.name, "prometheus-redis-exporter", "prometheus-redis-exporter", "PATH"
        )

    def _redis_address(self) -> str:
        parts = urlsplit(self.settings.redis_url)
        return f"redis://{parts.hostname}:{parts.port or 6379}"

    def prepare(self, progress: Progress) -> None:
        password = unquote(urlsplit(self.settings.redis_url).password or "")
        write_private(
            self.data_dir / "passwords.json", json.dumps({self._redis_address(): password})
        )

    def program(self) -> Program:
        command = [
            shutil.which("prometheus-redis-exporter") or "prometheus-redis-exporter",
            f"-web.listen-address={HOST}:{REDIS_EXPORTER_PORT}",
            f"-redis.addr={self._redis_address()}",
        ]
        if urlsplit(self.settings.redis_url).password:
            command.append(f"-redis.password-file={self.data_dir / 'passwords.json'}")
        return Program(name=self.name, command=command, directory=self.data_dir)

    def check_ready(self) -> str:
        http_ready(self.address())
        return self.address()


class StatsdExporter(Service):
    """statsd_exporter: Airflow's StatsD in (UDP), Prometheus series out."""

    name = "statsd-exporter"

    def listen_addresses(self) -> list[tuple[str, int]]:
        return [(HOST, STATSD_EXPORTER_PORT)]

    def address(self) -> str:
        return f"udp {HOST}:{STATSD_PORT} -> http://{HOST}:{STATSD_EXPORTER_PORT}/metrics"

    @property
    def binary(self) -> Path:
        """The built exporter (a new binary whenever its pins change)."""
        return STATSD_EXPORTER_BUILD.binary(self.cache_dir)

    def install(self, progress: Progress) -> None:
        STATSD_EXPORTER_BUILD.install(
            self.cache_dir, self.settings.cache_dir / "go", progress, self.name
        )

    def prepare(self, progress: Progress) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)

    def program(self) -> Program:
        mapping = self.settings.project_dir / "monitoring" / "statsd" / "airflow.yml"
        return Program(
            name=self.name,
            command=[
                str(self.binary),
                f"--web.listen-address={HOST}:{STATSD_EXPORTER_PORT}",
                f"--statsd.listen-udp={HOST}:{STATSD_PORT}",
                "--statsd.listen-tcp=",
                f"--statsd.mapping-config={mapping}",
            ],
            directory=self.data_dir,
        )

    def check_ready(self) -> str:
        http_ready(f"http://{HOST}:{STATSD_EXPORTER_PORT}/metrics")
        return self.address()


class StateExporter(Service):
    """`sluice exporter`: crawl, data-quality and backup state from PostgreSQL."""

    name = "exporter"

    def listen_addresses(self) -> list[tuple[str, int]]:
        return [(HOST, metrics_port(self.settings.metrics_base_port, self.name))]

    def address(self) -> str:
        port = metrics_port(self.settings.metrics_base_port, self.name)
        return f"http://{HOST}:{port}/metrics"

    def install(self, progress: Progress) -> None:
        """Nothing to install: the exporter is part of Sluice."""

    def prepare(self, progress: Progress) -> None:
        """Nothing to prepare."""

    def program(self) -> Program:
        return Program(
            name=self.name,
            command=[sys.executable, "-m", "sluice", "exporter"],
            directory=self.settings.project_dir,
            environment=metrics_environment(self.settings, self.name),
        )

    def check_ready(self) -> str:
        http_ready(self.address())
        return self.address()


def metrics_environment(settings: Settings, program: str) -> dict[str, str]:
    """The environment that gives a local Sluice process its own metrics port."""
    port = metrics_port(settings.metrics_base_port, program)
    return {"SLUICE_METRICS_HOST": HOST, "SLUICE_METRICS_PORT": str(port)}


def monitoring_services(settings: Settings) -> list[Service]:
    """What `sluice up --with-monitoring` runs, in start order (Prometheus last)."""
    return [
        PostgresExporter(settings),
        RedisExporter(settings),
        StatsdExporter(settings),
        StateExporter(settings),
        Prometheus(settings),
    ]
