"""Which of make test's two sessions runs a test, and the run's one exit status."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.support.streams import APART, PLATFORM, combined, stream_of


def item(path: str, *fixtures: str) -> SimpleNamespace:
    return SimpleNamespace(path=Path(path), fixturenames=list(fixtures))


@pytest.mark.parametrize(
    ("test", "stream"),
    [
        (item("tests/unit/api/test_dumping.py", "tmp_path"), APART),
        (item("tests/drills/test_crawl_drills.py", "drill_stack", "settings"), APART),
        (item("tests/integration/secure/test_secure_services.py", "secure_stack"), APART),
        # the checkout's stack wins: only the platform session may use (and sweep) it
        (item("tests/drills/test_airflow_drill.py", "drill_report", "platform"), PLATFORM),
        (item("tests/e2e/test_x.py", "secure_stack", "stack"), PLATFORM),
        (item("tests/integration/api/test_api_access.py", "settings"), PLATFORM),
    ],
)
def test_a_test_runs_in_its_stream(test, stream):
    assert stream_of(test) == stream


@pytest.mark.parametrize(
    ("statuses", "status"),
    [((0, 0), 0), ((0, 1), 1), ((2, 1), 2), ((5, 0), 0), ((0, 5), 0), ((5, 5), 5), ((5, 1), 1)],
)
def test_the_run_fails_with_the_first_failure_or_when_nothing_ran(statuses, status):
    assert combined(*statuses) == status
