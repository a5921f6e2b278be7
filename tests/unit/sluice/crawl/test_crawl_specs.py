"""The crawl registry and the Scrapy project agree: every spider has a crawl DAG spec."""

from __future__ import annotations

import pytest

from sluice.crawl.runner import scrapy_settings
from sluice.crawl.specs import CRAWLS, crawl_spec


def test_every_scrapy_spider_has_exactly_one_crawl_spec():
    from scrapy.spiderloader import SpiderLoader

    spiders = set(SpiderLoader.from_settings(scrapy_settings()).list())
    assert sorted(spec.spider for spec in CRAWLS) == sorted(spiders)


def test_a_spec_names_its_dag_and_asset_and_unknown_spiders_are_named():
    spec = crawl_spec("finance")
    assert (spec.dag_id, spec.asset_uri, spec.dated) == (
        "crawl_finance",
        "sluice://crawls/finance",
        True,
    )
    with pytest.raises(KeyError, match="nope"):
        crawl_spec("nope")
