"""The drills' report keeps the rows of every test session of one run, and only of that run."""

from __future__ import annotations

import json

from tests.support.drill_report import RUN_VARIABLE, DrillReport, DrillRow


def row(name: str) -> DrillRow:
    return DrillRow(name, "SIGKILL", "50 %", 10, 10, 0, 0, 0, 1.0, True)


def names(root) -> list[str]:
    document = json.loads((root / "drills-report.json").read_text())
    return [r["name"] for r in document["drills"]]


def test_two_sessions_of_one_run_keep_each_others_rows(tmp_path, monkeypatch):
    monkeypatch.setenv(RUN_VARIABLE, "run-1")
    first, second = DrillReport(tmp_path, 100), DrillReport(tmp_path, 100)
    first.record(row("kafka"))
    second.record(row("airflow"))
    first.record(row("redis"))
    assert names(tmp_path) == ["airflow", "kafka", "redis"]


def test_a_new_run_starts_the_report_afresh(tmp_path, monkeypatch):
    monkeypatch.setenv(RUN_VARIABLE, "run-1")
    DrillReport(tmp_path, 100).record(row("kafka"))
    monkeypatch.setenv(RUN_VARIABLE, "run-2")
    DrillReport(tmp_path, 100).record(row("airflow"))
    assert names(tmp_path) == ["airflow"]
