"""Pipeline-health judgements and their wording, without Kafka or a database."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from sluice.health import (
    DlqRate,
    Freshness,
    GroupLag,
    HealthError,
    HealthReport,
    HealthThresholds,
    consumer_lag,
    evaluate,
    raise_for_problems,
)

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)


def dlq(rejected: int, stored: int) -> DlqRate:
    return DlqRate(NOW - timedelta(hours=1), NOW, rejected, stored)


def fresh(kind: str, name: str, hours: float | None) -> Freshness:
    if hours is None:
        return Freshness(kind, name, None, None)
    return Freshness(kind, name, NOW - timedelta(hours=hours), timedelta(hours=hours))


def test_dlq_rate_is_the_rejected_share_of_what_arrived():
    rate = dlq(3, 27)
    assert rate.received == 30
    assert rate.rate == pytest.approx(0.1)
    assert dlq(0, 0).rate is None


def test_nothing_wrong_means_healthy():
    problems = evaluate(
        [GroupLag("sluice.archiver", 0), GroupLag("sluice.normalizer", 10_000)],
        dlq(1, 99),
        [fresh("spider", "ecommerce", 2)],
        [fresh("source", "shop.localhost", 25.9)],
        HealthThresholds(),
    )
    assert problems == []


def test_each_threshold_crossed_is_one_problem_in_words():
    problems = evaluate(
        [
            GroupLag("sluice.archiver", 10_001),
            GroupLag("sluice.normalizer", None, "Kafka at k:9092 unreachable: timeout"),
        ],
        dlq(30, 70),
        [fresh("spider", "ecommerce", 30), fresh("spider", "finance", None)],
        [fresh("source", "shop.localhost", 27), fresh("source", "gone.example", None)],
        HealthThresholds(),
    )
    assert [str(p) for p in problems] == [
        "lag sluice.archiver: 10001 messages behind (at most 10000 tolerated)",
        "lag sluice.normalizer: Kafka at k:9092 unreachable: timeout",
        "dlq rate: 30 of 100 items rejected (30%) in the last 60 min (at most 5% tolerated)",
        "spider ecommerce: newest finished run ended 30 h ago at 2026-11-22T06:00:00+00:00 "
        "(at most 26 h tolerated)",
        "spider finance: no finished crawl run",
        "source shop.localhost: newest row stored 27 h ago at 2026-11-22T09:00:00+00:00 "
        "(at most 26 h tolerated)",
        "source gone.example: no rows stored",
    ]


def test_too_few_items_are_not_judged_as_a_rate():
    assert evaluate([], dlq(5, 5), [], [], HealthThresholds(dlq_min_items=20)) == []
    assert len(evaluate([], dlq(5, 5), [], [], HealthThresholds(dlq_min_items=10))) == 1


def test_per_spider_and_per_source_ages_replace_the_default():
    thresholds = HealthThresholds(
        spider_max_age={"hourly": timedelta(hours=2)},
        source_max_age={"weekly.example": timedelta(days=8)},
    )
    problems = evaluate(
        [],
        None,
        [fresh("spider", "hourly", 3), fresh("spider", "daily", 3)],
        [fresh("source", "weekly.example", 24 * 7)],
        thresholds,
    )
    assert [p.subject for p in problems] == ["hourly"]


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"max_lag": -1}, "max_lag=-1"),
        ({"max_dlq_rate": 2}, "max_dlq_rate=2"),
        ({"dlq_window": timedelta(0)}, "dlq_window="),
        ({"spider_max_age": {"s": timedelta(hours=-1)}}, "spider_max_age['s']"),
    ],
)
def test_invalid_thresholds_are_refused_by_name(kwargs, words):
    with pytest.raises(ValueError, match="invalid health thresholds") as info:
        HealthThresholds(**kwargs)
    assert words in str(info.value)


def _report(problems_from_lag: int) -> HealthReport:
    lag = [GroupLag("sluice.normalizer", problems_from_lag)]
    spiders, sources = [fresh("spider", "ecommerce", 1)], [fresh("source", "shop", 1)]
    problems = evaluate(lag, dlq(0, 50), spiders, sources, HealthThresholds(max_lag=100))
    return HealthReport(NOW, lag, dlq(0, 50), spiders, sources, problems)


def test_report_summary_and_dict():
    healthy = _report(3)
    assert healthy.is_healthy
    assert healthy.summary() == (
        "pipeline health: healthy (lag sluice.normalizer 3; 0 of 50 items rejected (0%) in "
        "the last 60 min; 1 spiders and 1 sources fresh)"
    )
    raise_for_problems(healthy)

    sick = _report(500)
    assert not sick.is_healthy
    assert sick.summary().splitlines() == [
        "pipeline health: 1 problem",
        "- lag sluice.normalizer: 500 messages behind (at most 100 tolerated)",
    ]
    with pytest.raises(HealthError) as info:
        raise_for_problems(sick)
    assert str(info.value) == sick.summary()
    as_dict = json.loads(json.dumps(sick.to_dict()))
    assert as_dict["healthy"] is False
    assert as_dict["lag"] == {"sluice.normalizer": 500}
    assert as_dict["spiders"] == {"ecommerce": 3600.0}


def test_names_must_be_lists():
    with pytest.raises(TypeError, match="list of names"):
        consumer_lag({"bootstrap.servers": "127.0.0.1:9092"}, groups="sluice.normalizer")


def test_a_naive_now_is_refused_before_any_query():
    from sluice.health import dlq_rate

    with pytest.raises(ValueError, match="timezone-aware"):
        dlq_rate(object(), timedelta(hours=1), now=datetime(2026, 11, 23, 12))
