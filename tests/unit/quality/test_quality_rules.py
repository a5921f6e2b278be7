"""Data-quality judgements and their wording, without a database."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from sluice.quality import (
    CHECK_NAMES,
    CheckResult,
    QualityError,
    Thresholds,
    raise_for_failures,
    record,
    rules,
    run_checks,
    summary,
)
from sluice.quality.results import scope_of


def test_threshold_defaults_hold_the_contracts_required_columns_to_zero():
    t = Thresholds()
    assert t.max_row_drop == 0.5
    assert t.max_age_hours == 26
    assert t.max_null_rate["products.name"] == 0
    assert t.max_null_rate["products.brand"] == 0.05
    assert t.null_rate_columns()["products"][0] == ("brand", 0.05)
    assert set(t.null_rate_columns()) == {"products", "quotes"}


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"max_row_drop": 1.5}, "max_row_drop=1.5"),
        ({"max_null_rate": {"products": 0.1}}, "'products' is not 'table.column'"),
        ({"max_null_rate": {"crawl_runs.spider": 0.1}}, "table one of products, quotes"),
        ({"max_null_rate": {"products.name": -0.1}}, "max_null_rate['products.name']"),
        ({"max_duplicates": -1}, "max_duplicates=-1 is negative"),
        ({"max_age_hours": 0}, "max_age_hours=0 is not positive"),
    ],
)
def test_invalid_thresholds_are_refused_by_name(kwargs, words):
    with pytest.raises(ValueError, match="invalid data-quality thresholds") as info:
        Thresholds(**kwargs)
    assert words in str(info.value)


def test_row_count_drop_beyond_the_threshold_fails_and_says_by_how_much():
    result = rules.row_count_vs_previous(
        "ecommerce", rules.RunCount("c2", 40), rules.RunCount("c1", 100), 0.5
    )
    assert not result.passed
    assert result.observed == pytest.approx(0.6)
    assert result.threshold == 0.5
    assert result.scope == "spider=ecommerce"
    assert result.message == (
        "crawl c2 stored 40 items, 60% fewer than the 100 of previous run c1 "
        "(a drop of at most 50% is tolerated)"
    )
    assert result.details["previous_crawl_id"] == "c1"


@pytest.mark.parametrize(
    ("current", "previous", "passed", "observed", "words"),
    [
        (50, 100, True, 0.5, "50% fewer than"),  # exactly the threshold passes
        (120, 100, True, 0.0, "more than the 100"),
        (100, 100, True, 0.0, "as many as the 100"),
        (0, 100, False, 1.0, "100% fewer"),
        (0, 0, True, 0.0, "as many as the 0"),
    ],
)
def test_row_count_edges(current, previous, passed, observed, words):
    result = rules.row_count_vs_previous(
        "s", rules.RunCount("b", current), rules.RunCount("a", previous), 0.5
    )
    assert (result.passed, result.observed) == (passed, observed)
    assert words in result.message


def test_row_count_without_a_previous_run_passes_and_says_so():
    result = rules.row_count_vs_previous("s", rules.RunCount("c1", 7), None, 0.5)
    assert result.passed and result.observed is None
    assert result.details["reason"] == "no previous finished run"
    assert "no previous finished run" in result.message

    nothing = rules.row_count_vs_previous("s", None, None, 0.5)
    assert nothing.passed and nothing.details["reason"] == "no finished run"


def test_row_count_of_an_unrecorded_crawl_fails():
    result = rules.row_count_vs_previous(None, None, None, 0.5, requested_crawl_id="c9")
    assert not result.passed
    assert result.scope == "crawl=c9"
    assert "c9 is not recorded in crawl_runs" in result.message


def test_null_rate_at_the_threshold_passes_and_above_it_fails_with_examples():
    ok = rules.null_rate("products", "brand", "shop", 20, 1, 0.05)
    assert ok.passed and ok.observed == 0.05
    bad = rules.null_rate("products", "name", "shop", 10, 1, 0.0, ["sku-3"])
    assert not bad.passed
    assert bad.scope == "products.name source=shop"
    assert bad.message == "1 of 10 rows (10%) have no name, more than the 0% tolerated (e.g. sku-3)"


def test_prices_currencies_and_duplicates_count_bad_rows():
    prices = rules.positive_prices("quotes", "market", 5, 1, 0, ["ACME @ t: -1.0000"])
    assert not prices.passed and prices.observed == 1
    assert prices.message.endswith("(e.g. ACME @ t: -1.0000)")

    currencies = rules.iso_currency(
        "products", "shop", {"USD": 8, "XXY": 1, None: 1, "usd": 2}, 0, {"XXY": "sku-9"}
    )
    assert not currencies.passed and currencies.observed == 4
    assert "4 of 12 rows" in currencies.message
    assert "'usd': 2 rows" in currencies.message
    assert "'XXY': 1 row e.g. sku-9" in currencies.message
    assert "NULL: 1 row" in currencies.message
    assert currencies.details["bad_currencies"] == {"NULL": 1, "XXY": 1, "usd": 2}
    assert rules.iso_currency("products", "shop", {"EUR": 3}, 0).passed

    dups = rules.duplicates("products", "shop", "external_id", 10, 1, 1, 0, [["SKU-1", " sku-1"]])
    assert not dups.passed and dups.observed == 1
    assert "1 external_id value among 10 rows repeats" in dups.message
    assert dups.message.endswith(": 'SKU-1' vs ' sku-1' (1 extra row)")
    clean = rules.duplicates("products", "shop", "external_id", 10, 0, 0, 0)
    assert clean.passed and clean.message.startswith("no external_id repeats")


def test_freshness_judges_hours_and_flags_missing_rows():
    newest = datetime(2026, 11, 22, 5, tzinfo=UTC)
    stale = rules.source_freshness("products", "shop", newest, 30.0, 26)
    assert not stale.passed and stale.observed == 30.0
    assert "30.0 h ago" in stale.message and "older than the 26 h tolerated" in stale.message
    assert stale.details["newest_updated_at"] == newest.isoformat()
    assert rules.source_freshness("products", "shop", newest, 2.0, 26).passed
    assert not rules.missing_source("gone.example", 26).passed
    assert rules.spider_freshness("s", None, None, 26).passed
    assert not rules.spider_freshness("s", newest, 27.5, 26).passed


def test_details_become_json_values():
    result = CheckResult(
        "x", "all", True, 1.0, 2.0, {"at": datetime(2026, 1, 1, tzinfo=UTC), "n": Decimal("1.5")}
    )
    assert json.loads(json.dumps(result.details)) == {"at": "2026-01-01T00:00:00+00:00", "n": 1.5}


def _results():
    return [
        rules.null_rate("products", "brand", "a", 10, 0, 0.05),
        rules.positive_prices("products", "b", 10, 1, 0, ["sku-1: -5.0000"]),
        rules.iso_currency("products", "c", {"XXY": 1, "USD": 9}, 0, {"XXY": "sku-2"}),
    ]


def test_summary_lists_only_what_broke():
    text = summary(_results())
    assert text.splitlines() == [
        "data quality: 2 of 3 checks failed",
        "- positive_prices [products source=b]: 1 of 10 rows have a price that is missing "
        "or not greater than 0 (e.g. sku-1: -5.0000)",
        "- iso_currency [products source=c]: 1 of 10 rows have a currency that is not an "
        "ISO 4217 code ('XXY': 1 row e.g. sku-2)",
    ]
    assert summary(_results()[:1]) == "data quality: all 1 checks passed"
    assert "no checks ran" in summary([])


def test_summary_caps_the_listed_failures():
    failures = [rules.positive_prices("products", f"s{i}", 1, 1, 0) for i in range(5)]
    lines = summary(failures, limit=2).splitlines()
    assert len(lines) == 4 and lines[-1] == "- ... and 3 more failures"


def test_raise_for_failures_carries_the_summary():
    raise_for_failures(_results()[:1])
    with pytest.raises(QualityError) as info:
        raise_for_failures(_results())
    assert str(info.value) == summary(_results())
    assert [r.scope for r in info.value.failures] == [
        "products source=b",
        "products source=c",
    ]


def test_scope_text():
    assert scope_of("products", "name", "shop") == "products.name source=shop"
    assert scope_of(spider="finance") == "spider=finance"
    assert scope_of() == "all"


def test_arguments_are_checked_before_any_query():
    no_connection = object()
    with pytest.raises(ValueError, match="unknown checks"):
        run_checks(no_connection, "r", checks=["nulls"])
    with pytest.raises(TypeError, match="list of names"):
        run_checks(no_connection, "r", sources="shop.localhost")
    with pytest.raises(ValueError, match="run_id"):
        record(no_connection, "", [])
    assert record(no_connection, "r", []) == 0
    assert CHECK_NAMES[0] == "row_count_vs_previous"


@pytest.mark.parametrize(
    ("failed", "pages", "passed"),
    [(0, 100, True), (5, 95, True), (6, 94, False), (1, 0, False)],
)
def test_failed_pages_fail_the_crawl_above_their_share(failed, pages, passed):
    result = rules.failed_pages_share("c-1", failed, pages, 0.05, ["http://x.test/a"])
    assert result.passed is passed
