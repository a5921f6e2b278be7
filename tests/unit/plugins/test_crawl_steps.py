"""Pure decisions of the crawl DAG: what a run crawls, and when a crawl counts as idle."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from plugins.operators.crawl import crawl_id_for, run_plan
from plugins.triggers.crawl import crawl_state
from sluice.crawl.registry import CrawlStatus


def status(queued=0, in_flight=0, workers=0, leased=0, max_pages=0, failed=None) -> CrawlStatus:
    meta = {"params": json.dumps({"max_pages": max_pages})}
    if failed:
        meta["failed_reason"] = failed
    return CrawlStatus("c", "ecommerce", queued, in_flight, workers, {}, meta, leased_pages=leased)


@pytest.mark.parametrize(
    ("look", "dispatched", "state"),
    [
        (status(), True, "idle"),
        (status(queued=3, workers=1), True, "running"),
        (status(in_flight=1, workers=1), True, "running"),
        (status(queued=0, workers=1), True, "running"),  # a worker is still closing
        (status(queued=9, leased=40, max_pages=40), False, "page_limit"),
        (status(queued=9, leased=40, max_pages=40, in_flight=1), True, "running"),
        (status(queued=9, leased=12, max_pages=40), False, "orphaned"),
        (status(queued=9), True, "running"),  # dispatched: the pool is about to start it
        (status(queued=9, failed="restart budget spent"), False, "failed"),
    ],
)
def test_crawl_state(look, dispatched, state):
    assert crawl_state(look, dispatched) == state


def test_a_run_keeps_its_crawl_id_across_retries():
    first = crawl_id_for("finance", "scheduled__2026-03-04T22:00:00+00:00", "20260304")
    assert first == crawl_id_for("finance", "scheduled__2026-03-04T22:00:00+00:00", "20260304")
    assert first != crawl_id_for("finance", "manual__2026-03-04T22:00:00+00:00", "20260304")
    assert first.startswith("finance-20260304-")


def context(day: datetime | None, run_id: str = "manual__x") -> dict:
    run = SimpleNamespace(run_after=datetime(2026, 5, 6, 7, tzinfo=UTC))
    return {"data_interval_start": day, "logical_date": day, "run_id": run_id, "dag_run": run}


def registered(*urls: str):
    """The spider's enabled sources, as the register task looks them up."""
    return lambda: list(urls)


def not_asked():
    raise AssertionError("the registry was asked although the run gave start URLs")


def test_a_dated_run_crawls_its_logical_day():
    plan = run_plan("finance", {}, context(datetime(2026, 3, 4, 22, tzinfo=UTC)), registered("u"))
    assert plan["params"] == {"date": "2026-03-04"}
    assert plan["workers"] == 1 and plan["crawl_id"].startswith("finance-20260304-")


def test_a_run_without_start_urls_crawls_the_registered_sources():
    sites = ("http://shop.example/", "https://other.example/catalog")
    plan = run_plan("ecommerce", {"start_urls": []}, context(None), registered(*sites))
    assert plan["start_urls"] == list(sites)


def test_start_urls_given_by_the_run_win_over_the_registry():
    params = {"start_urls": ["http://shop.example/"]}
    plan = run_plan("ecommerce", params, context(None), not_asked)
    assert plan["start_urls"] == ["http://shop.example/"]


def test_a_run_without_start_urls_or_sources_fails_with_the_registrys_message():
    from sluice.sources import NoSourceError

    def nothing_registered():
        raise NoSourceError("no enabled source for spider 'ecommerce'")

    with pytest.raises(NoSourceError, match="no enabled source for spider 'ecommerce'"):
        run_plan("ecommerce", {}, context(None), nothing_registered)


def test_form_values_win_and_max_pages_reaches_the_crawl():
    params = {"start_urls": ["http://shop.example/"], "max_pages": 30, "workers": 3}
    plan = run_plan("ecommerce", params, context(None), not_asked)
    assert plan["params"] == {"max_pages": 30} and plan["workers"] == 3
    assert plan["crawl_id"].startswith("ecommerce-20260506-")  # no logical date: run_after


def test_a_dated_run_without_any_date_is_refused():
    from airflow.sdk.exceptions import AirflowException

    with pytest.raises(AirflowException, match="needs a date"):
        run_plan("finance", {}, context(None), registered("http://market.example/"))


@pytest.mark.parametrize(("rendered", "value"), [("None", None), ("", None), (None, None),
                                                 ("invalid_item", "invalid_item")])  # fmt: skip
def test_an_empty_templated_param_means_no_filter(rendered, value):
    from plugins.operators.platform import blank_to_none

    # `{{ params.reason }}` renders an unset param as "None": not a reason to filter on.
    assert blank_to_none(rendered) == value


def partition(key: str | None) -> dict:
    """A partitioned DAG's run (a scheduled day or a backfill's): no logical date, a key."""
    return {**context(None), "partition_key": key}


def test_a_partition_run_crawls_its_partitions_day():
    plan = run_plan("finance", {}, partition("2026-03-04"), registered("u"))
    assert (plan["params"], plan["crawl_id"][:16]) == ({"date": "2026-03-04"}, "finance-20260304")


@pytest.mark.parametrize(
    ("params", "key", "message"),
    [
        ({}, "2999-01-04", "2999-01-04 is still to come"),
        ({"date": "2999-01-04"}, None, "2999-01-04 is still to come"),
        ({}, "04/03/2026", "'04/03/2026' is not a day"),
    ],
)
def test_a_day_to_come_or_unreadable_is_refused_naming_it(params, key, message):
    from airflow.sdk.exceptions import AirflowFailException

    with pytest.raises(AirflowFailException, match=message):
        run_plan("finance", params, partition(key), registered("u"))


@pytest.mark.parametrize(
    ("spider", "ctx", "day"),
    [
        ("finance", partition("2026-03-04"), "2026-03-04"),  # a dated run: its trading day
        ("ecommerce", context(datetime(2026, 3, 4, 6, tzinfo=UTC)), "2026-03-04"),
        ("ecommerce", context(None), "2026-05-06"),  # no logical date: the day it was made
    ],
)
def test_a_run_plans_the_day_partition_it_updates(spider, ctx, day):
    assert run_plan(spider, {}, ctx, registered("u"))["day"] == day


@pytest.mark.parametrize(
    ("params", "whole"),
    [
        ({}, True),  # the registered sources, no page limit
        ({"max_pages": 30}, False),
        ({"start_urls": ["http://shop.example/c/tools"]}, False),
    ],
)
def test_only_a_run_over_the_registered_sources_without_a_limit_is_whole(params, whole):
    assert run_plan("ecommerce", params, context(None), registered("u"))["whole"] is whole
