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
    finance, shop = crawl_spec("finance"), crawl_spec("ecommerce")
    assert [(s.dag_id, s.asset_name, s.asset_uri, s.dated) for s in (finance, shop)] == [
        ("crawl_finance", "quotes", "sluice://quotes", True),
        ("crawl_ecommerce", "crawl_ecommerce", "sluice://crawls/ecommerce", False),
    ]
    with pytest.raises(KeyError, match="nope"):
        crawl_spec("nope")
