"""A failing benchmark step costs its own rows only, reported with the reason."""

from __future__ import annotations

import logging

import pytest

from bench.figures import Expected, Goal, Quantity
from bench.steps import Once, SharedStepFailed, attempt

ROW = Expected("a", "a ÷ b", Goal(">=", 1), "a", "b")
OTHER = Expected("c", "c ÷ d", Goal(">=", 1), "c", "d")


def test_a_failing_step_leaves_its_rows_unmeasured_with_the_reason(caplog):
    def broken():
        raise RuntimeError("consumer exited 1; see bench.log")

    with caplog.at_level(logging.ERROR):
        figures = attempt([ROW, OTHER], broken)
    assert [f.reason for f in figures] == ["RuntimeError: consumer exited 1; see bench.log"] * 2
    assert len([r for r in caplog.records if r.levelno == logging.ERROR]) == 1


def test_a_row_the_step_forgot_is_reported_not_dropped():
    figures = attempt([ROW, OTHER], lambda: [ROW.measured(Quantity(1, "x"), Quantity(1, "x"))])
    assert [f.key for f in figures] == ["a", "c"]
    assert figures[1].reason


def test_a_shared_measurement_runs_once_and_its_failure_is_logged_once(caplog):
    calls = []

    def flaky():
        calls.append(1)
        raise OSError("no broker")

    shared = Once("the normalizer", flaky)
    with caplog.at_level(logging.ERROR):
        first = attempt([ROW], lambda: [ROW.measured(Quantity(shared(), "x"))])
        second = attempt([OTHER], lambda: [OTHER.measured(Quantity(shared(), "x"))])
    assert len(calls) == 1
    assert first[0].reason == second[0].reason == "the normalizer failed: OSError: no broker"
    assert len([r for r in caplog.records if r.levelno == logging.ERROR]) == 1
    with pytest.raises(SharedStepFailed):
        shared()


def test_a_shared_measurement_keeps_its_value():
    calls = []
    shared = Once("rate", lambda: calls.append(1) or 42.0)
    assert (shared(), shared(), len(calls)) == (42.0, 42.0, 1)
