"""The API as its users reach it: over HTTP from the server at ``settings.api_url``."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

from api import keys
from sluice.storage.postgres import connect
from sluice.storage.redis import client
from tests.support.crawling import wait_for
from tests.support.network import free_port


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
            keys.revoke(conn, client(settings.redis_url), name)


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


@contextmanager
def gunicorn_api(settings, log: Path) -> Iterator[Any]:
    """`sluice api` (gunicorn) on a free port of its own, for as long as the block runs;
    yields ``settings`` pointing at it."""
    served = dataclasses.replace(settings, api_url=f"http://127.0.0.1:{free_port()}")
    env = {**os.environ, "SLUICE_API_URL": served.api_url}
    with log.open("w") as out:
        server = subprocess.Popen(
            [str(Path(sys.executable).with_name("sluice")), "api", "--workers", "1"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:

        def answers() -> bool:
            assert server.poll() is None, log.read_text()[-3000:]
            try:
                return requests.get(f"{served.api_url}/healthz", timeout=2).status_code == 200
            except requests.ConnectionError:
                return False

        wait_for(answers, 60, what=f"the API at {served.api_url}")
        yield served
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
