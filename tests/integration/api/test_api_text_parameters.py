"""Every text parameter refuses what PostgreSQL cannot store with a 400 naming it (a NUL byte
drawn by schemathesis once answered 500 and turned `make test` red)."""

from __future__ import annotations

import pytest

from api.pagination import encode_cursor

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

#: (path, query parameter) for every string parameter of the OpenAPI document
TEXT_QUERY_PARAMETERS = [
    *[("/api/v1/products", name) for name in
      ("cursor", "source", "category", "brand", "availability", "q", "updated_since", "sort")],
    *[("/api/v1/products/export.csv", name) for name in
      ("source", "category", "brand", "availability", "q", "updated_since")],
    *[("/api/v1/quotes", name) for name in ("cursor", "symbol", "date_from", "date_to", "sort")],
    *[("/api/v1/quotes/export.csv", name) for name in ("symbol", "date_from", "date_to")],
    *[("/api/v1/crawls", name) for name in ("cursor", "spider", "status", "sort")],
    ("/api/v1/products/1/prices", "cursor"),
    ("/api/v1/changes", "since"),
]  # fmt: skip


def test_the_list_covers_every_string_parameter_of_the_document(client):
    spec = client.get("/api/v1/openapi.json").json
    documented = {
        (path.replace("{product_id}", "1"), parameter["name"])
        for path, item in spec["paths"].items()
        for operation in item.values()
        if isinstance(operation, dict)
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "query" and parameter["schema"].get("type") == "string"
    }
    assert documented == set(TEXT_QUERY_PARAMETERS)


@pytest.mark.parametrize(("path", "name"), TEXT_QUERY_PARAMETERS)
def test_a_nul_byte_in_a_query_parameter_is_a_400_naming_it(client, key, path, name):
    response = client.get(path, query_string={name: "a\x00b"}, headers={"X-API-Key": key})
    assert (response.status_code, list(response.json["error"]["details"]["parameters"])) == (
        400,
        [name],
    )


@pytest.mark.parametrize(
    ("path", "name"),
    [("/api/v1/crawls/a%00b", "crawl_id"), ("/api/v1/quotes/A%00B", "symbol")],
)
def test_a_nul_byte_in_a_path_parameter_is_a_400_naming_it(client, key, path, name):
    response = client.get(path, headers={"X-API-Key": key})
    assert (response.status_code, list(response.json["error"]["details"]["parameters"])) == (
        400,
        [name],
    )


@pytest.mark.parametrize(
    ("path", "sort", "value", "row_id"),
    [
        ("/api/v1/products", "name", "Widget\x00", 1),
        ("/api/v1/crawls", "started_at", "2026-11-01T00:00:00+00:00", "crawl\x00id"),
    ],
)
def test_a_cursor_carrying_a_nul_byte_is_a_400_naming_the_cursor(
    client, key, path, sort, value, row_id
):
    cursor = encode_cursor(sort, value, row_id)
    response = client.get(
        path, query_string={"sort": sort, "cursor": cursor}, headers={"X-API-Key": key}
    )
    assert (response.status_code, list(response.json["error"]["details"]["parameters"])) == (
        400,
        ["cursor"],
    )
