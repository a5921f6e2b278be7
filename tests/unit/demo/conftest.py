"""Fixtures for the demo sites: one app per test (its flaky page and day are per instance)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import lxml.html
import pytest
from flask import Flask
from flask.testing import FlaskClient

from demo.app import create_app
from demo.catalog import Catalog

DAY = date(2026, 3, 2)
BASE = "http://localhost"


@pytest.fixture(scope="session")
def day() -> date:
    """The day every test app starts on."""
    return DAY


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return Catalog(seed=7)


@pytest.fixture
def app() -> Flask:
    return create_app(seed=7, day=DAY, slow_seconds=0)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def page(client: FlaskClient) -> Callable[..., lxml.html.HtmlElement]:
    """Fetch and parse a page, after checking its status: ``page(url, status=200)``."""

    def fetch(url: str, status: int = 200) -> lxml.html.HtmlElement:
        response = client.get(url)
        assert response.status_code == status, (url, response.status_code)
        return lxml.html.fromstring(response.get_data(as_text=True))

    return fetch
