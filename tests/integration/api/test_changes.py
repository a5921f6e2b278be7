"""The change feed over the real PostgreSQL: every recorded change once, in the order it was
recorded, with its old and new values, even when transactions end out of order."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from sluice.storage.postgres import connect

DAY = datetime(2026, 10, 1, 8, tzinfo=UTC)


@pytest.fixture
def source(settings, migrated):
    """A source of this test's own; its products go afterwards."""
    name = f"feed-{uuid.uuid4().hex[:8]}.localhost"
    yield name
    with connect(settings.postgres_writer_url, autocommit=True) as conn:
        conn.execute("DELETE FROM products WHERE source = %s", (name,))


def add_product(conn, source: str, sku: str) -> int:
    return conn.execute(
        "INSERT INTO products (source, external_id, name, price, currency, availability, url, "
        "first_seen_at, last_seen_at) VALUES (%s, %s, %s, 1, 'USD', 'in_stock', %s, %s, %s) "
        "RETURNING id",
        (source, sku, f"Feed {sku}", f"http://{source}/{sku}", DAY, DAY),
    ).fetchone()[0]


def observe(conn, product_id: int, day: int, price: str, availability: str = "in_stock") -> None:
    """A history row, as the normalizer writes one for an observation that changed."""
    conn.execute(
        "INSERT INTO product_prices (product_id, price, currency, availability, observed_at, "
        "crawl_id) VALUES (%s, %s, 'USD', %s, %s, 'feed-test')",
        (product_id, price, availability, DAY + timedelta(days=day)),
    )


def read(client, key: str, since: str, source: str, **params) -> tuple[list[dict], str]:
    """This source's changes after ``since``, following ``next`` until caught up; and where
    to go on from."""
    mine, position = [], since
    while True:
        response = client.get(
            "/api/v1/changes",
            query_string={"since": position, "limit": 50, **params},
            headers={"X-API-Key": key},
        )
        assert response.status_code == 200, response.json
        page = response.json
        mine += [item for item in page["items"] if item["source"] == source]
        position = page["next"]
        if len(page["items"]) < 50:
            return mine, position


def the_end(client, key: str) -> str:
    response = client.get("/api/v1/changes?since=now", headers={"X-API-Key": key})
    assert response.json["items"] == []
    return response.json["next"]


def summary(items: list[dict]) -> list[tuple]:
    return [
        (
            item["external_id"],
            item["kinds"],
            item["old"] and (item["old"]["price"], item["old"]["availability"]),
            (item["new"]["price"], item["new"]["availability"]),
        )
        for item in items
    ]


def test_a_products_history_reads_as_its_changes_with_old_and_new_values(
    client, key, settings, source
):
    start = the_end(client, key)
    with connect(settings.postgres_writer_url, autocommit=True) as conn:
        product = add_product(conn, source, "A")
        observe(conn, product, 0, "10.00")
        observe(conn, product, 1, "12.50")
        observe(conn, product, 2, "12.50", "out_of_stock")
        observe(conn, product, 3, "9.00", "discontinued")
    items, _ = read(client, key, start, source)
    assert summary(items) == [
        ("A", ["new"], None, ("10.0000", "in_stock")),
        ("A", ["price"], ("10.0000", "in_stock"), ("12.5000", "in_stock")),
        ("A", ["availability"], ("12.5000", "in_stock"), ("12.5000", "out_of_stock")),
        ("A", ["price", "discontinued"], ("12.5000", "out_of_stock"), ("9.0000", "discontinued")),
    ]


def test_kinds_select_the_changes_listed(client, key, settings, source):
    start = the_end(client, key)
    with connect(settings.postgres_writer_url, autocommit=True) as conn:
        product = add_product(conn, source, "B")
        observe(conn, product, 0, "10.00")
        observe(conn, product, 1, "11.00")
        observe(conn, product, 2, "11.00", "out_of_stock")
    items, _ = read(client, key, start, source, kinds="price")
    assert summary(items) == [("B", ["price"], ("10.0000", "in_stock"), ("11.0000", "in_stock"))]


def test_following_next_in_small_pages_reads_each_change_once(client, key, settings, source):
    start = the_end(client, key)
    with connect(settings.postgres_writer_url, autocommit=True) as conn:
        for n in range(7):
            observe(conn, add_product(conn, source, f"P{n}"), 0, "5.00")
    seen, position = [], start
    for _ in range(50):
        response = client.get(
            "/api/v1/changes",
            query_string={"since": position, "limit": 2},
            headers={"X-API-Key": key},
        )
        seen += [i["external_id"] for i in response.json["items"] if i["source"] == source]
        position = response.json["next"]
        if not response.json["items"]:
            break
    assert seen == [f"P{n}" for n in range(7)]


def test_a_change_committed_late_is_not_skipped_by_a_reader_that_went_on(
    client, key, settings, source
):
    # Transaction A writes first (so has the lower transaction id) but commits last; a reader
    # that read B's change meanwhile must still be served A's afterwards.
    start = the_end(client, key)
    with connect(settings.postgres_writer_url, autocommit=True) as setup:
        early, late = add_product(setup, source, "early"), add_product(setup, source, "late")
    with connect(settings.postgres_writer_url) as a:
        observe(a, early, 0, "1.00")
        with connect(settings.postgres_writer_url, autocommit=True) as b:
            observe(b, late, 0, "2.00")
        first, position = read(client, key, start, source)
        a.commit()
    then, _ = read(client, key, position, source)
    assert [i["external_id"] for i in first + then] == ["early", "late"]


@pytest.mark.parametrize(
    ("name", "value"), [("since", "not-a-cursor"), ("kinds", "price,rumours"), ("limit", "0")]
)
def test_a_bad_parameter_is_refused_by_name(client, key, name, value):
    response = client.get("/api/v1/changes", query_string={name: value}, headers={"X-API-Key": key})
    assert (response.status_code, list(response.json["error"]["details"]["parameters"])) == (
        400,
        [name],
    )
