"""Crawls against the bundled demo sites through the real Redis and Kafka of the stack."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from urllib.parse import urlsplit

import pytest

from demo.catalog import Catalog
from demo.market import Market
from sluice.storage.redis import client
from tests.support.crawling import DemoServer


@pytest.fixture(scope="session")
def demo() -> Iterator[DemoServer]:
    """The demo sites, served in this process on a free port, showing a fixed day."""
    server = DemoServer()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    """The demo shop's catalog (the ground truth a crawl is checked against)."""
    return Catalog(seed=7)


@pytest.fixture(scope="session")
def market() -> Market:
    """The demo market (ground truth for quotes)."""
    return Market(seed=7)


@pytest.fixture
def replica_settings(settings, stack) -> Iterator:
    """The stack's settings on a Redis database of these tests' own, for pool replicas: the
    platform's pool (when it runs) watches the default database and does not join in."""
    url = urlsplit(settings.redis_url)._replace(path="/8").geturl()
    server = client(url, decode=False)
    server.flushdb()
    yield replace(settings, redis_url=url)
    server.flushdb()
