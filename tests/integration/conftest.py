"""Fixtures of the integration tests beyond those every layer shares (tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from sluice.storage.postgres import connect


@pytest.fixture(scope="module")
def writer(settings, migrated) -> Iterator[psycopg.Connection]:
    """An autocommit connection as the writer role (the processors' role)."""
    with connect(settings.postgres_writer_url, autocommit=True) as conn:
        yield conn
