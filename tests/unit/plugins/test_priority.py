"""Backfill runs rank below fresh runs, whatever the task's own weight."""

from __future__ import annotations

from types import SimpleNamespace

from plugins.priority import FRESH_RUN_BONUS, FreshRunsFirst


def ti(run_id: str, weight: int = 3) -> SimpleNamespace:
    return SimpleNamespace(run_id=run_id, task=SimpleNamespace(priority_weight=weight))


def test_fresh_runs_outrank_backfill_runs():
    strategy = FreshRunsFirst()
    backfill = strategy.get_weight(ti("backfill__2026-03-04T22:00:00+00:00", weight=50))
    scheduled = strategy.get_weight(ti("scheduled__2026-03-04T22:00:00+00:00"))
    manual = strategy.get_weight(ti("manual__2026-11-23T10:00:00+00:00"))
    assert backfill == 50 and scheduled == manual == 3 + FRESH_RUN_BONUS
    assert scheduled > backfill
