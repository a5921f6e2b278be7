"""The report's pure helpers: running totals, stats counters, quote changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from sluice.report.data import (
    AmbiguousRun,
    RunNotFound,
    classify_quotes,
    cumulative,
    drop_counts,
    http_status_counts,
    key_counters,
)

T0 = datetime(2026, 11, 23, tzinfo=UTC)


def test_running_totals_keep_first_and_last_when_thinned():
    counts = [(T0 + timedelta(seconds=i), 2) for i in range(1000)]
    assert [p.stored for p in cumulative(counts[:3])] == [2, 4, 6]
    thinned = cumulative(counts, limit=50)
    assert len(thinned) == 50
    assert thinned[0].stored == 2 and thinned[-1].stored == 2000
    assert thinned[-1].at == counts[-1][0]
    assert [p.stored for p in thinned] == sorted(p.stored for p in thinned)
    assert cumulative([]) == []


def test_stats_counters():
    stats = {
        "downloader/response_status_count/404": 2,
        "downloader/response_status_count/200": 576,
        "drop_item/ecommerce/no_price": 1,
        "drop_item/ecommerce/no_name": 3,
        "drop_item/other/no_price": 1,
        "kafka/error": "broker down",
        "downloader/response_status_count/999": "not a count",
        "kafka/delivered": 545,
    }
    assert http_status_counts(stats) == [("200", 576), ("404", 2)]
    assert drop_counts(stats) == [("no_name", 3), ("no_price", 2)]
    assert key_counters(stats) == [("kafka/delivered", "items delivered to Kafka", 545)]


def test_quotes_move_by_the_published_change():
    changes = classify_quotes(
        [
            (Decimal("101"), Decimal("1"), Decimal("1.00")),
            (Decimal("99"), Decimal("-1"), None),
            (Decimal("50"), None, Decimal("-2.5")),
            (Decimal("50"), Decimal("0"), Decimal("0")),
            (Decimal("50"), None, None),
        ]
    )
    assert changes.counts == {"up": 1, "down": 2, "unchanged": 1, "no change given": 1}
    assert changes.relative == pytest.approx([0.01, -0.01, -0.025])


def test_lookup_errors_name_the_id():
    assert str(RunNotFound("x")).startswith("no crawl run 'x'")
    message = str(AmbiguousRun("manual__1", [f"c{i}" for i in range(12)]))
    assert "c0, c1" in message and "c11" not in message and "..." in message
