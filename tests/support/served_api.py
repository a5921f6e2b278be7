"""The API as its users reach it: over HTTP from the server at ``settings.api_url``."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests

from api import keys
from sluice.storage.postgres import connect


@contextmanager
def api_key(settings, rate_limit: int = 1000) -> Iterator[str]:
    """A fresh API key of a name of its own, revoked afterwards."""
    name = f"test-{uuid.uuid4().hex[:8]}"
    with connect(settings.postgres_writer_url, autocommit=True) as conn:
        key = keys.create(conn, name, rate_limit).key
    try:
        yield key
    finally:
        with connect(settings.postgres_writer_url, autocommit=True) as conn:
            keys.revoke(conn, name)


def get(settings, key: str, path: str, **params: Any) -> requests.Response:
    """GET ``path`` of the served API with ``key``; fails the test unless it answers 200."""
    answer = requests.get(
        f"{settings.api_url.rstrip('/')}{path}",
        params=params,
        headers={"X-API-Key": key},
        timeout=30,
    )
    assert answer.status_code == 200, f"GET {path}: {answer.status_code} {answer.text[:500]}"
    return answer


def listing(settings, key: str, path: str, **params: Any) -> list[dict]:
    """Every item of a paged listing (``/api/v1/products``, ``/api/v1/quotes``), page by page."""
    items, cursor = [], None
    while True:
        page = get(
            settings, key, path, limit=100, **params, **({"cursor": cursor} if cursor else {})
        )
        body = page.json()
        items += body["items"]
        cursor = body["next"]
        if not cursor:
            return items
