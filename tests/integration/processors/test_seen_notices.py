"""Seen notices through the normalizer's own sink on the real PostgreSQL: a product found
unchanged moves its last sighting on and adds no history; a notice for a product the store
does not have is reported, so its fingerprint can go."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from processors.base import Batch, Origin
from processors.normalizer import NormalizeHandler, PostgresSink
from sluice.storage.postgres import connect
from tests.support.processing import product, seen

pytestmark = [pytest.mark.postgres]


@pytest.fixture
def store(settings, migrated):
    """(write(messages), forgotten, source): the normalizer's sink, the products it reported
    unknown, and a source of this test's own."""
    source = f"test-seen-{uuid.uuid4().hex[:8]}.localhost"
    forgotten: list[tuple[str, str]] = []
    sink = PostgresSink(
        lambda: connect(settings.postgres_writer_url, autocommit=True),
        forget_fingerprints=forgotten.extend,
    )
    handler = NormalizeHandler()

    def write(messages: list[tuple[bytes, bytes]]) -> Batch:
        batch = Batch()
        for n, (key, value) in enumerate(messages):
            handler.handle_value(value, Origin("test.seen", 0, n, key), batch)
        sink.write(batch)
        sink.after_commit(batch)
        return batch

    yield write, forgotten, source
    sink.close()
    with connect(settings.postgres_writer_url, autocommit=True) as conn:
        conn.execute("DELETE FROM products WHERE source = %s", (source,))


def state(settings, source: str, sku: str) -> tuple:
    with connect(settings.postgres_reader_url) as conn:
        return conn.execute(
            "SELECT p.price::text, p.last_seen_at, p.last_crawl_id, "
            "(SELECT count(*) FROM product_prices pp WHERE pp.product_id = p.id) "
            "FROM products p WHERE p.source = %s AND p.external_id = %s",
            (source, sku),
        ).fetchone()


def test_a_seen_notice_moves_the_last_sighting_on_and_adds_no_history(settings, store):
    write, _, source = store
    write([product(source, "A", "10.00", 0, "crawl-1")])
    write([seen(source, "A", 2, "crawl-2")])
    assert state(settings, source, "A") == (
        "10.0000", datetime(2026, 11, 3, 8, tzinfo=UTC), "crawl-2", 1
    )  # fmt: skip


def test_an_older_seen_notice_moves_nothing_back(settings, store):
    write, _, source = store
    write([product(source, "B", "10.00", 3, "crawl-1")])
    write([seen(source, "B", 1, "crawl-0")])
    assert state(settings, source, "B")[1:3] == (datetime(2026, 11, 4, 8, tzinfo=UTC), "crawl-1")


def test_a_product_and_its_seen_notice_in_one_batch_end_seen(settings, store):
    write, forgotten, source = store
    write([product(source, "C", "10.00", 0, "crawl-1"), seen(source, "C", 1, "crawl-2")])
    assert (state(settings, source, "C")[2], forgotten) == ("crawl-2", [])


def test_a_seen_notice_for_a_product_not_stored_is_reported_for_its_fingerprint(store):
    write, forgotten, source = store
    write([seen(source, "D", 1, "crawl-2")])
    assert forgotten == [(source, "D")]
