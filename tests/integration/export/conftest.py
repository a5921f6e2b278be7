"""Fixtures for these tests: the migrated schema and a writer connection."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from sluice.storage.postgres import connect


@pytest.fixture(scope="session")
def migrated(stack, sluice_cli) -> None:
    """The database schema, applied by `sluice migrate` as a user would."""
    result = sluice_cli("migrate")
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def writer(settings, migrated) -> Iterator[psycopg.Connection]:
    """An autocommit connection as the writer role (the processors' role)."""
    with connect(settings.postgres_writer_url, autocommit=True) as conn:
        yield conn
