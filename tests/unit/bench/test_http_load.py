"""Percentiles of latencies (nearest rank)."""

from __future__ import annotations

import pytest

from bench.http_load import LoadResult, percentile


def test_nearest_rank_percentiles():
    ordered = [float(n) for n in range(1, 101)]
    assert percentile(ordered, 0.5) == 50
    assert percentile(ordered, 0.99) == 99
    assert percentile(ordered, 1.0) == 100
    assert percentile([7.0], 0.99) == 7


def test_no_latencies_is_an_error():
    with pytest.raises(ValueError, match="no latencies"):
        percentile([], 0.5)


def test_a_load_result_gives_its_rate_and_milliseconds():
    result = LoadResult(seconds=2.0, latencies=[0.001, 0.002, 0.004, 0.010])
    assert result.rate == 2
    assert result.percentile_ms(0.5) == pytest.approx(2)
