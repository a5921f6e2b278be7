"""When a reprocess_raw run needs an approval: over the days or the raw items allowed."""

from __future__ import annotations

import pytest

from plugins.operators.reprocess import approval_reasons


@pytest.mark.parametrize(
    ("days", "raw_items", "reasons"),
    [
        (7, 100, []),
        (8, 100, ["8 days is more than 7 (SLUICE_APPROVAL_MAX_DAYS)"]),
        (1, 1001, ["1,001 raw items is more than 1,000 (SLUICE_APPROVAL_MAX_ROWS)"]),
        (
            9,
            5000,
            [
                "9 days is more than 7 (SLUICE_APPROVAL_MAX_DAYS)",
                "5,000 raw items is more than 1,000 (SLUICE_APPROVAL_MAX_ROWS)",
            ],
        ),
    ],
)
def test_a_run_over_either_limit_needs_an_approval_saying_why(days, raw_items, reasons):
    assert approval_reasons(days, raw_items, max_days=7, max_rows=1000) == reasons
