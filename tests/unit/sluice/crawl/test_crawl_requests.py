"""Crawl requests: which are valid, what each bad one is told, and the run each one starts."""

from __future__ import annotations

import json

import pytest

from plugins.operators.events import requested_runs
from sluice.crawl.requests import CrawlRequestError, crawl_request_from, parse_event

SHOP = "https://shop.example/"


def test_a_valid_request_names_the_crawl_run_it_starts():
    wanted = crawl_request_from(
        {"spider": "ecommerce", "start_urls": [SHOP], "max_pages": 5, "request_id": "r1"},
        requested_by="cli",
    )
    assert (wanted.dag_id, wanted.run_id, wanted.run_conf()) == (
        "crawl_ecommerce",
        "request__r1",
        {"start_urls": [SHOP], "max_pages": 5},
    )


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"spider": "nope", "start_urls": [SHOP]}, "unknown spider 'nope'"),
        ({"spider": "ecommerce", "start_urls": []}, "no start URL"),
        ({"spider": "ecommerce", "start_urls": "https://x/"}, "is not a list of URLs"),
        ({"spider": "ecommerce", "start_urls": ["ftp://x/"]}, "is not an http(s) URL"),
        ({"spider": "ecommerce", "start_urls": [SHOP], "max_pages": -1}, "max_pages -1"),
        ({"spider": "ecommerce", "start_urls": [SHOP], "date": "2026-01-02"}, "takes no date"),
        ({"spider": "finance", "start_urls": [SHOP]}, "give its date"),
        ({"spider": "finance", "start_urls": [SHOP], "date": "soon"}, "is not a date"),
        ({"spider": "ecommerce", "start_urls": [SHOP], "maxpages": 3}, "unknown field 'maxpages'"),
        ({"type": "other", "spider": "ecommerce", "start_urls": [SHOP]}, "type 'other'"),
        (["ecommerce"], "a crawl request is a JSON object, not list"),
    ],
)
def test_a_request_that_cannot_run_is_refused_naming_the_problem(body, problem):
    with pytest.raises(CrawlRequestError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        crawl_request_from(body, requested_by="cli")


@pytest.mark.parametrize(
    ("value", "problem"),
    [(b"not json", "the event is not JSON"), (b"\xff\xfe", "the event is not JSON"),
     (None, "the event has no value")],
)  # fmt: skip
def test_an_event_that_is_not_a_json_request_is_refused(value, problem):
    with pytest.raises(CrawlRequestError, match=problem) as refused:
        parse_event(value)
    assert refused.value.reason == "invalid_json"


def test_each_asset_event_starts_the_run_its_request_names():
    event = crawl_request_from(
        {"spider": "finance", "start_urls": [SHOP], "date": "2026-03-02", "request_id": "r9"},
        requested_by="api:ana",
    ).to_event()
    assert json.loads(json.dumps(event)) == event  # an asset event's extra is JSON
    assert requested_runs([{"from_trigger": True, "payload": event}]) == [
        {
            "trigger_dag_id": "crawl_finance",
            "trigger_run_id": "request__r9",
            "conf": {"start_urls": [SHOP], "max_pages": 0, "date": "2026-03-02"},
        }
    ]
