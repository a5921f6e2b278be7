"""Fixtures shared by every test layer."""

from __future__ import annotations

import pytest

from sluice.settings import Settings, load_settings


@pytest.fixture(scope="session")
def settings() -> Settings:
    """The settings a developer's `sluice` command would use (environment and .env)."""
    return load_settings()
