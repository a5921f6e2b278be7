"""Crawls against the bundled demo sites through the real Redis and Kafka of the stack."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from demo.catalog import Catalog
from demo.market import Market
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
