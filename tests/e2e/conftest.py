"""The whole data path: the demo sites, a crawl, Kafka, both processors, MongoDB and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sluice.settings import Settings
from tests.support.crawling import DemoServer
from tests.support.served_api import gunicorn_api


@pytest.fixture(scope="session")
def demo() -> Iterator[DemoServer]:
    """The demo sites in this process, showing a fixed day."""
    server = DemoServer()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def served(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """The API served by gunicorn (`sluice api`) on a port of its own: the settings that
    point at it."""
    with gunicorn_api(settings, tmp_path_factory.mktemp("api") / "api.log") as pointing:
        yield pointing
