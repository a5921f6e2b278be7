"""Admission in one Redis round trip: cached key checks that a revocation voids at once, and
cache hits that never reach PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from api import keychecks, keys
from api.app import create_app
from sluice.storage.postgres import connect
from sluice.storage.redis import client as redis_client
from tests.integration.api.conftest import make_key

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@contextmanager
def checkouts(app) -> Iterator[list[int]]:
    """Count the PostgreSQL connections the app takes from its pool meanwhile (one list item
    per checkout; SQLAlchemy's pool events, so nothing of the app is replaced)."""
    engine = app.extensions["sluice.stores"].engine
    taken: list[int] = []

    def _taken(*_: object) -> None:
        taken.append(1)

    event.listen(engine, "checkout", _taken)
    try:
        yield taken
    finally:
        event.remove(engine, "checkout", _taken)


def test_a_revoked_key_is_refused_on_the_next_request_though_its_check_was_cached(client, settings):
    name, key = make_key(settings)
    path = "/api/v1/products?limit=1"
    assert client.get(path, headers={"X-API-Key": key}).status_code == 200
    cache = redis_client(settings.redis_url)
    assert cache.exists(keychecks.check_key(keys.hash_key(key)))  # the check is cached now
    with connect(settings.postgres_writer_url, autocommit=True) as conn:
        assert keys.revoke(conn, cache, name)
    assert client.get(path, headers={"X-API-Key": key}).status_code == 401


@pytest.fixture
def other(settings) -> Iterator:
    """A second replica of the API: pools of its own, sharing only PostgreSQL and Redis."""
    replica = create_app(settings)
    yield replica
    replica.extensions["sluice.stores"].engine.dispose()


def test_a_revocation_reaches_every_replica(app, other, settings):
    name, key = make_key(settings)
    path = "/api/v1/quotes?limit=1"
    for replica in (app, other):
        assert replica.test_client().get(path, headers={"X-API-Key": key}).status_code == 200
    with connect(settings.postgres_writer_url, autocommit=True) as conn:
        assert keys.revoke(conn, redis_client(settings.redis_url), name)
    refused = other.test_client().get(path, headers={"X-API-Key": key})
    assert refused.status_code == 401


def test_a_cache_hit_is_answered_without_postgresql(app, client, key, catalog):
    path = f"/api/v1/products?source={catalog['source']}&limit=20&sort=-price"
    assert client.get(path, headers={"X-API-Key": key}).headers["X-Cache"] in ("MISS", "HIT")
    with checkouts(app) as taken:
        hit = client.get(path, headers={"X-API-Key": key})
    assert (hit.headers["X-Cache"], len(taken)) == ("HIT", 0)


def test_a_key_check_cached_by_one_request_spares_the_next_miss_its_key_lookup(
    app, client, key, catalog
):
    client.get("/api/v1/quotes?limit=1", headers={"X-API-Key": key})
    path = f"/api/v1/products?source={catalog['source']}&q={uuid.uuid4().hex}"
    with checkouts(app) as taken:
        miss = client.get(path, headers={"X-API-Key": key})
    # A miss queries the products once, and nothing else.
    assert (miss.headers["X-Cache"], len(taken)) == ("MISS", 1)
