"""The whole data path: the demo sites, a crawl, Kafka, both processors, MongoDB and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.crawling import DemoServer


@pytest.fixture(scope="session")
def demo() -> Iterator[DemoServer]:
    """The demo sites in this process, showing a fixed day."""
    server = DemoServer()
    yield server
    server.stop()
