"""`sluice stack` as a user drives it: idempotent up, status of a stopped service, clear errors."""

from __future__ import annotations

import json
import os
import socket
import uuid

import pytest

from sluice.storage.postgres import connect

pytestmark = pytest.mark.stack

SERVICES = ["postgres", "redis", "kafka", "ferretdb", "seaweedfs"]


def status_rows(sluice_cli) -> dict[str, dict]:
    result = sluice_cli("stack", "status", "--json")
    return {row["name"]: row for row in json.loads(result.stdout)}


def test_up_twice_is_harmless(stack, sluice_cli):
    before = status_rows(sluice_cli)
    first = sluice_cli("stack", "up")
    second = sluice_cli("stack", "up")
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    after = status_rows(sluice_cli)
    assert list(after) == SERVICES
    for name in SERVICES:
        assert after[name]["healthy"], after[name]
        # Nothing was restarted: the same processes answer.
        assert after[name]["pid"] == before[name]["pid"]


def test_status_reports_a_stopped_service_and_up_brings_it_back(stack, sluice_cli):
    assert sluice_cli("stack", "status").returncode == 0
    before = status_rows(sluice_cli)
    stopped = sluice_cli("stack", "down", "ferretdb")
    assert stopped.returncode == 0, stopped.stderr
    assert "stopped: ferretdb" in stopped.stdout
    try:
        result = sluice_cli("stack", "status")
        assert result.returncode == 3
        line = next(li for li in result.stdout.splitlines() if li.startswith("ferretdb"))
        assert "STOPPED" in line and "DOWN" in line
        rows = status_rows(sluice_cli)
        assert rows["ferretdb"]["healthy"] is False
        assert all(rows[name]["healthy"] for name in ("postgres", "redis", "kafka"))
    finally:
        restarted = sluice_cli("stack", "up", "ferretdb")
    assert restarted.returncode == 0, restarted.stderr
    after = status_rows(sluice_cli)
    assert all(row["healthy"] for row in after.values()), after
    # Starting one service leaves the others alone.
    for name in ("postgres", "redis", "kafka"):
        assert after[name]["pid"] == before[name]["pid"], f"{name} was restarted"


def test_logs_show_the_latest_lines_of_a_service_log(stack, settings, sluice_cli):
    marker = f"sluice-log-probe-{uuid.uuid4().hex}"
    with connect(settings.postgres_url, autocommit=True) as conn:
        conn.execute(f"DO $$ BEGIN RAISE LOG '{marker}'; END $$")
    result = sluice_cli("stack", "logs", "postgres", "-n", "5")
    assert result.returncode == 0, result.stderr
    assert marker in result.stdout
    assert len(result.stdout.splitlines()) <= 5


def test_logs_of_a_service_without_a_log_is_a_clear_error(other_stack, sluice_cli):
    result = sluice_cli("stack", "logs", "kafka", env=other_stack)
    assert result.returncode == 1
    assert "no log yet for kafka" in result.stderr


@pytest.fixture
def other_stack(tmp_path):
    """Environment for a second, separate stack in a scratch directory (nothing shared)."""
    return {
        "SLUICE_STACK_DIR": str(tmp_path / "stack"),
        "SLUICE_CACHE_DIR": os.environ.get("SLUICE_CACHE_DIR", ""),
    }


def test_a_port_clash_names_the_service_the_port_and_the_fix(other_stack, sluice_cli, tmp_path):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        env = {**other_stack, "SLUICE_REDIS_URL": f"redis://127.0.0.1:{port}/0"}
        result = sluice_cli("stack", "up", "redis", env=env)
    assert result.returncode == 1
    assert f"redis: port 127.0.0.1:{port} is already in use by pid {os.getpid()}" in result.stderr
    assert "fix:" in result.stderr and "SLUICE_REDIS_URL" in result.stderr
    # Nothing was started for the refused stack.
    assert not (tmp_path / "stack" / "supervisor.sock").exists()


def test_a_missing_package_names_the_package_and_the_fix(other_stack, sluice_cli):
    env = {
        **other_stack,
        "SLUICE_REDIS_SERVER": "/nonexistent/redis-server",
        "SLUICE_PG_BINDIR": "/nonexistent/pg/bin",
    }
    result = sluice_cli("stack", "up", "redis", "postgres", env=env)
    assert result.returncode == 1
    # Both problems are reported at once, each with its package and its fix.
    assert (
        "redis: `/nonexistent/redis-server` was not found (Debian package redis-server"
        in result.stderr
    )
    assert (
        "postgres: /nonexistent/pg/bin/postgres not found (Debian package postgresql-15"
        in result.stderr
    )
    assert result.stderr.count("fix: run `make deps`") == 2


def test_an_unknown_service_is_refused(sluice_cli):
    result = sluice_cli("stack", "up", "mysql")
    assert result.returncode == 1
    assert "mysql: no such service" in result.stderr
    assert "postgres, redis, kafka, ferretdb" in result.stderr


def test_a_malformed_setting_is_named(sluice_cli):
    result = sluice_cli("stack", "status", env={"SLUICE_REDIS_URL": "localhost:6379"})
    assert result.returncode == 1
    assert "SLUICE_REDIS_URL='localhost:6379' is not a URL" in result.stderr
