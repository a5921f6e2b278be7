"""Validation of sources and of sync files, without a database."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sluice.sources import Source, SourceError, demo_sources, make_source, parse

SHOP = "https://shop.example/catalog"


def entry(**overrides) -> dict:
    return {
        "name": "shop",
        "spider": "ecommerce",
        "start_urls": [SHOP],
        "enabled": True,
        **overrides,
    }


def test_a_valid_source_keeps_its_urls_once_in_order():
    made = make_source("shop", "ecommerce", [SHOP, "http://b.example/", SHOP])
    assert made == Source("shop", "ecommerce", (SHOP, "http://b.example/"), True)


def test_an_unknown_spider_is_named_with_the_known_ones():
    with pytest.raises(
        SourceError, match=r"unknown spider 'shopping' \(Sluice's spiders: ecommerce, finance\)"
    ):
        make_source("shop", "shopping", [SHOP])


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("ftp://shop.example/", "'ftp://shop.example/' is not an http(s) URL"),
        ("shop.example/catalog", "'shop.example/catalog' is not an http(s) URL"),
        ("http:///catalog", "'http:///catalog' has no host"),
        ("http://shop.example/a b", "'http://shop.example/a b' contains whitespace"),
        ("http://shop.example:99999/", "'http://shop.example:99999/' is not a URL"),
        ("", "'' is not a URL"),
    ],
)
def test_a_url_that_is_not_http_is_named(url, problem):
    with pytest.raises(SourceError, match=re.escape(f"start URL {problem}")):
        make_source("shop", "ecommerce", [url])


def test_an_empty_url_list_is_refused():
    with pytest.raises(SourceError, match=r"source 'shop': no start URL"):
        make_source("shop", "ecommerce", [])


@pytest.mark.parametrize("name", ["Shop", "-shop", "shop site", "", "x" * 64, "shop.example"])
def test_a_name_that_is_not_a_slug_is_named(name):
    with pytest.raises(SourceError, match=f"name {name!r} is not a slug"):
        make_source(name, "ecommerce", [SHOP])


def test_every_problem_of_a_source_is_told_at_once():
    with pytest.raises(SourceError) as raised:
        make_source("Shop", "nope", ["ftp://x/"])
    assert str(raised.value).count(";") == 2


def test_a_sync_file_entry_is_enabled_unless_it_says_otherwise():
    found = parse(json.dumps([{k: v for k, v in entry().items() if k != "enabled"}]))
    assert found == [Source("shop", "ecommerce", (SHOP,), True)]


def test_a_listed_source_syncs_back_as_it_is():
    when = datetime(2026, 12, 1, 8, tzinfo=UTC)
    listed = Source("shop", "ecommerce", (SHOP,), False, when, when)
    assert parse(json.dumps([listed.to_json()])) == [listed]


def test_a_file_that_is_not_json_names_the_file_and_the_place():
    with pytest.raises(SourceError, match=r"sources.json: not JSON \(.* at line 1 column 2\)"):
        parse("[x]", origin="sources.json")


def test_a_file_that_is_not_a_list_is_refused():
    with pytest.raises(SourceError, match="expected a JSON list of sources, found an object"):
        parse(json.dumps(entry()))


@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        (entry(spider="shopping"), "entry 1 ('shop'): unknown spider 'shopping'"),
        (entry(start_urls=[]), "entry 1 ('shop'): no start URL"),
        (entry(start_urls=SHOP), "entry 1 ('shop'): 'start_urls' must be a list of URLs"),
        (entry(start_urls=["file:///etc/passwd"]), "'file:///etc/passwd' is not an http(s) URL"),
        (entry(enabled="yes"), "'enabled' must be true or false, not 'yes'"),
        (entry(start_url=[SHOP]), "unknown key(s) 'start_url'"),
        ({"name": "shop"}, "entry 1 ('shop'): missing 'spider'; missing 'start_urls'"),
        ("shop", "entry 1: expected an object, found a string"),
    ],
)
def test_a_bad_entry_is_named_by_its_place_and_name(bad, problem):
    with pytest.raises(SourceError) as raised:
        parse(json.dumps([bad]), origin="sources.json")
    assert problem in str(raised.value)


def test_a_name_twice_in_one_file_is_refused():
    with pytest.raises(SourceError, match=r"entry 2 \('shop'\): the name is taken by entry 1"):
        parse(json.dumps([entry(), entry(start_urls=["http://other.example/"])]))


def test_one_bad_entry_refuses_the_whole_file():
    with pytest.raises(SourceError, match="nothing synced"):
        parse(json.dumps([entry(name="good"), entry(name="bad", spider="nope")]))


def test_the_demo_sources_start_on_each_spiders_demo_page():
    assert {(s.name, s.spider, s.start_urls) for s in demo_sources("http://127.0.0.1:8100/")} == {
        ("demo-ecommerce", "ecommerce", ("http://127.0.0.1:8100/shop/",)),
        ("demo-finance", "finance", ("http://127.0.0.1:8100/market/quotes",)),
    }


def test_the_demo_script_syncs_the_sources_sluice_up_registers():
    script = (Path(__file__).parents[3] / "scripts" / "demo").read_text(encoding="utf-8")
    synced = script.split("<<JSON\n", 1)[1].split("\nJSON\n", 1)[0]
    site = "http://127.0.0.1:8100"
    assert parse(synced.replace("$site", site)) == demo_sources(site)
