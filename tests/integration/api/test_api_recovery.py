"""Redis or PostgreSQL going away: 503 from /readyz naming it, clear errors, and recovery."""

from __future__ import annotations

import pytest

from sluice.stack.services.base import NotReady
from tests.support.crawling import wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def ready(service) -> bool:
    try:
        service.check_ready()
    except NotReady:
        return False
    return True


def service_named(stack, name: str):
    return next(s for s in stack.services if s.name == name)


def test_the_api_rides_out_a_redis_restart(client, key, stack):
    path = "/api/v1/products?limit=3&sort=-id"
    client.get(path, headers={"X-API-Key": key})
    stack.supervisor.stop("redis")
    try:
        down = client.get("/readyz")
        assert down.status_code == 503 and down.json["error"]["details"]["postgres"] == "ok"
        assert down.json["error"]["details"]["redis"].startswith("unavailable")
        # Data still served, straight from PostgreSQL.
        served = client.get(path, headers={"X-API-Key": key})
        assert served.status_code == 200 and served.headers["X-Cache"] == "BYPASS"
    finally:
        stack.supervisor.start("redis")
    wait_for(lambda: ready(service_named(stack, "redis")), 60, what="Redis to come back")
    wait_for(lambda: client.get("/readyz").status_code == 200, 30, what="/readyz to recover")
    client.get(path, headers={"X-API-Key": key})
    assert client.get(path, headers={"X-API-Key": key}).headers["X-Cache"] == "HIT"


def test_the_api_rides_out_a_postgres_restart(client, key, stack):
    stack.supervisor.stop("postgres")
    try:
        down = client.get("/readyz")
        assert down.status_code == 503 and "postgres" in down.json["error"]["message"]
        failed = client.get("/api/v1/crawls?limit=1", headers={"X-API-Key": key})
        assert failed.status_code == 503
        assert failed.json["error"]["code"] == "database_unavailable"
        assert failed.headers["Retry-After"] == "5"
    finally:
        stack.supervisor.start("postgres")
    wait_for(lambda: ready(service_named(stack, "postgres")), 60, what="PostgreSQL to return")
    # The pool's stale connections are replaced (pre-ping): the next requests just work.
    wait_for(lambda: client.get("/readyz").status_code == 200, 30, what="/readyz to recover")
    assert client.get("/api/v1/crawls?limit=1", headers={"X-API-Key": key}).status_code == 200
