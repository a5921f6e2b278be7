"""The monitoring services' configuration (no processes started): one scrape job per local
component under the documented names, and no password in what the supervisor is told."""

from __future__ import annotations

import stat

import pytest

from sluice.settings import find_project_dir, load_settings
from sluice.stack.progress import Progress
from sluice.stack.services import monitoring_services
from sluice.stack.services.monitoring import scrape_config
from tests.support.monitoring import readme_jobs


@pytest.fixture
def settings(tmp_path):
    return load_settings(
        {
            "SLUICE_POSTGRES_URL": "postgresql://owner:pg-s3cret@127.0.0.1:15432/sluice",
            "SLUICE_REDIS_URL": "redis://:redis-s3cret@127.0.0.1:16379/0",
            "SLUICE_STACK_DIR": str(tmp_path / "stack"),
        },
        project_dir=tmp_path,
    )


def test_every_documented_job_is_scraped_once(settings):
    config = scrape_config(settings)
    jobs = [job["job_name"] for job in config["scrape_configs"]]
    assert len(jobs) == len(set(jobs))
    assert set(jobs) == readme_jobs(find_project_dir())
    targets = {
        j["job_name"]: j["static_configs"][0]["targets"][0] for j in config["scrape_configs"]
    }
    assert targets["normalizer"] == f"127.0.0.1:{settings.metrics_base_port + 1}"
    assert config["rule_files"] == [str(settings.project_dir / "monitoring/rules/*.rules.yml")]


def test_passwords_stay_out_of_the_supervisor_config(settings):
    services = {s.name: s for s in monitoring_services(settings)}
    for name in ("postgres-exporter", "redis-exporter"):
        services[name].prepare(Progress())
    programs = [s.program() for s in services.values()]
    told = repr([(p.command, p.environment) for p in programs])
    assert "pg-s3cret" not in told and "redis-s3cret" not in told
    password_file = settings.stack_dir / "postgres-exporter" / "password"
    assert password_file.read_text() == "pg-s3cret"
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    redis_command = services["redis-exporter"].program().command
    assert any(arg.startswith("-redis.password-file=") for arg in redis_command)
