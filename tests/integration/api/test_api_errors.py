"""Errors: one JSON shape, a 400 that names the parameter, never a 500 for client input."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ({"limit": "0"}, ["limit"]),
        ({"limit": "201"}, ["limit"]),
        ({"limit": "ten"}, ["limit"]),
        ({"sort": "colour"}, ["sort"]),
        ({"availability": "maybe"}, ["availability"]),
        ({"min_price": "-1"}, ["min_price"]),
        ({"min_price": "9", "max_price": "3"}, ["max_price"]),
        ({"updated_since": "2026-11-01T00:00:00"}, ["updated_since"]),
        ({"cursor": "not-a-cursor"}, ["cursor"]),
        ({"q": "x" * 201}, ["q"]),
    ],
)
def test_a_bad_parameter_gets_a_400_naming_it(client, key, query, named):
    response = client.get("/api/v1/products", query_string=query, headers={"X-API-Key": key})
    assert response.status_code == 400
    error = response.json["error"]
    assert error["code"] == "bad_request" and sorted(error["details"]["parameters"]) == named
    assert all(name in error["message"] for name in named)


def test_a_cursor_of_another_sort_order_is_refused(client, key, catalog):
    first = client.get(
        "/api/v1/products", query_string={"source": catalog["source"], "limit": 2},
        headers={"X-API-Key": key},
    )  # fmt: skip
    other = client.get(
        "/api/v1/products", query_string={"sort": "price", "cursor": first.json["next"]},
        headers={"X-API-Key": key},
    )  # fmt: skip
    assert other.status_code == 400 and "cursor" in other.json["error"]["details"]["parameters"]


def test_unknown_paths_methods_and_large_bodies(client, key):
    lost = client.get("/api/v1/nothing-here", headers={"X-API-Key": key})
    assert lost.status_code == 404 and lost.json["error"]["code"] == "not_found"
    wrong = client.delete("/api/v1/products", headers={"X-API-Key": key})
    assert wrong.status_code == 405 and "GET" in wrong.headers["Allow"]
    assert wrong.json["error"]["code"] == "method_not_allowed"
    big = client.post("/api/v1/products", data=b"x" * 100_000, headers={"X-API-Key": key})
    assert big.status_code == 413 and big.json["error"]["code"] == "payload_too_large"
    bad_symbol = client.get("/api/v1/quotes/%3Cscript%3E", headers={"X-API-Key": key})
    assert bad_symbol.status_code == 400


def test_a_store_that_is_down_gives_503_and_readyz_names_it(settings, key):
    from dataclasses import replace

    from api.app import create_app

    broken_pg = create_app(
        replace(settings, postgres_reader_url="postgresql://nobody:x@127.0.0.1:1/none")
    ).test_client()
    ready = broken_pg.get("/readyz")
    assert ready.status_code == 503 and "postgres" in ready.json["error"]["message"]
    listing = broken_pg.get("/api/v1/products", headers={"X-API-Key": key})
    assert listing.status_code == 503
    assert listing.json["error"]["code"] == "database_unavailable"

    broken_redis = create_app(replace(settings, redis_url="redis://127.0.0.1:1/0")).test_client()
    ready = broken_redis.get("/readyz")
    assert ready.status_code == 503 and "redis" in ready.json["error"]["message"]
    # Without Redis the API still answers, uncached and unlimited.
    served = broken_redis.get("/api/v1/products?limit=1", headers={"X-API-Key": key})
    assert served.status_code == 200 and served.headers["X-Cache"] == "BYPASS"


def test_an_over_long_target_or_header_gets_the_json_envelope(client, key):
    long_target = client.get("/api/v1/products", query_string={"q": "x" * 5000})
    assert (long_target.status_code, long_target.json["error"]["code"]) == (414, "uri_too_long")
    big_header = client.get("/api/v1/products", headers={"X-API-Key": key, "X-Note": "n" * 9000})
    assert (big_header.status_code, big_header.json["error"]["code"]) == (431, "headers_too_large")
