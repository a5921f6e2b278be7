"""`sluice exporter` against the real PostgreSQL: the state gauges follow the rows of
crawl_runs, dq_results, backup_runs and deadline_misses, and a database it cannot reach reads
as down."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from sluice.monitoring.state import StateCollector
from sluice.storage.postgres import connect
from tests.support.network import free_port

pytestmark = pytest.mark.postgres


@pytest.fixture
def rows(writer):
    """Two spiders' runs, two checks' results and a verified backup, all named for this test."""
    tag = uuid.uuid4().hex[:8]
    now = datetime.now(UTC).replace(microsecond=0)
    good, bad = f"mon-good-{tag}", f"mon-bad-{tag}"
    runs = [
        # (crawl id, spider, status, finished, items stored)
        (f"{good}-1", good, "finished", now - timedelta(days=2), 400),
        (f"{good}-2", good, "finished", now - timedelta(hours=1), 545),
        (f"{good}-3", good, "running", None, 0),  # not finished: not the newest finished one
        (f"{bad}-1", bad, "failed", now - timedelta(minutes=5), 0),
    ]
    for crawl_id, spider, status, finished, stored in runs:
        writer.execute(
            "INSERT INTO crawl_runs (crawl_id, spider, status, started_at, finished_at, "
            "items_stored) VALUES (%s, %s, %s, %s, %s, %s)",
            (crawl_id, spider, status, (finished or now) - timedelta(minutes=1), finished, stored),
        )
    checks = [
        # (run, check, scope, passed, checked at): the newest run of check_b has one failure
        (f"run-old-{tag}", f"check_a_{tag}", "x", False, now - timedelta(hours=3)),
        (f"run-new-{tag}", f"check_a_{tag}", "x", True, now - timedelta(minutes=2)),
        (f"run-new-{tag}", f"check_b_{tag}", "x", True, now - timedelta(minutes=2)),
        (f"run-new-{tag}", f"check_b_{tag}", "y", False, now - timedelta(minutes=2)),
    ]
    for run_id, check, scope, passed, at in checks:
        writer.execute(
            "INSERT INTO dq_results (run_id, check_name, scope, passed, checked_at) "
            "VALUES (%s, %s, %s, %s, %s)",
            (run_id, check, scope, passed, at),
        )
    label = f"mon-{tag}"
    writer.execute(
        "INSERT INTO backup_runs (label, location, size_bytes, status, verified_at) "
        "VALUES (%s, '/backups/x', 10, 'verified', %s)",
        (label, now),
    )
    yield {"good": good, "bad": bad, "tag": tag, "now": now}
    writer.execute("DELETE FROM crawl_runs WHERE spider IN (%s, %s)", (good, bad))
    writer.execute("DELETE FROM dq_results WHERE run_id LIKE %s", (f"%-{tag}",))
    writer.execute("DELETE FROM backup_runs WHERE label = %s", (label,))


def samples(families) -> dict[tuple[str, tuple], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for f in families for s in f.samples}


def test_the_gauges_follow_the_state_tables(settings, rows):
    collector = StateCollector(lambda: connect(settings.postgres_reader_url))
    got = samples(collector.collect())
    good, bad, tag = rows["good"], rows["bad"], rows["tag"]
    finished = "sluice_crawl_last_finished_timestamp_seconds"
    assert got[("sluice_state_up", ())] == 1
    assert got[(finished, (("spider", good),))] == (rows["now"] - timedelta(hours=1)).timestamp()
    assert got[("sluice_crawl_last_items_stored", (("spider", good),))] == 545
    assert got[("sluice_crawl_last_failed", (("spider", good),))] == 0
    assert got[("sluice_crawl_last_failed", (("spider", bad),))] == 1
    assert got[("sluice_dq_check_passed", (("check", f"check_a_{tag}"),))] == 1
    assert got[("sluice_dq_check_passed", (("check", f"check_b_{tag}"),))] == 0
    assert got[("sluice_backup_last_verified_timestamp_seconds", ())] >= rows["now"].timestamp()


def test_missed_deadlines_are_counted_per_dag_with_the_newest(settings, writer):
    dag_id = f"crawl_mon_{uuid.uuid4().hex[:8]}"
    due = datetime(2026, 12, 1, 12, tzinfo=UTC)
    for run_id, late in (("r1", due - timedelta(days=1)), ("r2", due)):
        writer.execute(
            "INSERT INTO deadline_misses (dag_id, run_id, deadline_at) VALUES (%s, %s, %s)",
            (dag_id, run_id, late),
        )
    try:
        got = samples(StateCollector(lambda: connect(settings.postgres_reader_url)).collect())
    finally:
        writer.execute("DELETE FROM deadline_misses WHERE dag_id = %s", (dag_id,))
    labels = (("dag_id", dag_id),)
    assert (
        got[("sluice_dag_deadline_misses", labels)],
        got[("sluice_dag_deadline_last_missed_timestamp_seconds", labels)],
    ) == (2, due.timestamp())


def test_an_unreachable_database_reads_as_down():
    url = f"postgresql://nobody:x@127.0.0.1:{free_port()}/none"
    got = samples(StateCollector(lambda: connect(url, timeout=1)).collect())
    assert got == {("sluice_state_up", ()): 0}


def test_sluice_exporter_serves_the_gauges_over_http(settings, rows):
    port = free_port()
    env = {**os.environ, "SLUICE_METRICS_PORT": str(port), "SLUICE_METRICS_HOST": "127.0.0.1"}
    command = Path(sys.executable).with_name("sluice")
    process = subprocess.Popen([str(command), "exporter"], env=env, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
                    text = r.read().decode()
                break
            except OSError:
                assert process.poll() is None, process.stderr.read().decode()
                assert time.monotonic() < deadline, "sluice exporter did not serve in 30 s"
                time.sleep(0.3)
        got = samples(text_string_to_metric_families(text))
        assert got[("sluice_crawl_last_items_stored", (("spider", rows["good"]),))] == 545
        assert got[("sluice_state_up", ())] == 1
    finally:
        process.terminate()
        assert process.wait(10) == 0


def test_a_taken_metrics_port_is_named_with_the_setting_that_moves_it(sluice_cli):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = sluice_cli("exporter", env={"SLUICE_METRICS_PORT": str(port)}, timeout=60)
    assert result.returncode == 1
    assert f"cannot serve metrics on 127.0.0.1:{port}" in result.stderr
    assert "set SLUICE_METRICS_PORT to a free port" in result.stderr
