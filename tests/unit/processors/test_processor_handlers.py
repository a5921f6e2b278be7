"""Processor handlers on hand-made messages: what is stored, what is rejected and why."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from processors.archiver import MAX_DOCUMENT_BYTES, ArchiveHandler, raw_document
from processors.base import Batch
from processors.normalizer import NormalizeHandler, ProductRow, QuoteRow
from processors.runtime import next_offsets
from tests.unit.processors.kafka_doubles import FakeMessage


def product_envelope(**item_overrides: object) -> dict:
    item = {
        "external_id": "SKU-1",
        "name": "Kettle",
        "brand": "Brew",
        "category": "kitchen",
        "price": "19.90",
        "currency": "EUR",
        "availability": "in_stock",
        "rating": 4.5,
        "review_count": 12,
        "image_url": "http://127.0.0.1:8000/shop/img/SKU-1.svg",
        "url": "http://127.0.0.1:8000/shop/p/SKU-1",
        **item_overrides,
    }
    return {
        "schema": "product/1",
        "crawl_id": "ecommerce-1",
        "spider": "ecommerce",
        "source": "shop.localhost",
        "url": item["url"],
        "fetched_at": "2026-11-23T09:00:00+01:00",
        "item": item,
    }


def normalize(value: bytes) -> Batch:
    batch = Batch()
    NormalizeHandler().handle(FakeMessage(value), batch)
    return batch


def test_a_valid_product_becomes_a_normalised_row():
    batch = normalize(json.dumps(product_envelope()).encode())
    assert batch.rejections == []
    (row,) = batch.records
    assert isinstance(row, ProductRow)
    assert row.fetched_at == datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    assert row.item["price"] == Decimal("19.90")
    assert (row.source, row.crawl_id, row.spider) == ("shop.localhost", "ecommerce-1", "ecommerce")
    assert row.origin.offset == 7


def test_a_valid_quote_becomes_a_quote_row():
    envelope = {
        "schema": "quote/1",
        "crawl_id": "finance-1",
        "spider": "finance",
        "source": "market.localhost",
        "url": "http://127.0.0.1:8000/market/quotes",
        "fetched_at": "2026-11-20T22:00:00Z",
        "item": {
            "symbol": "ACMX",
            "price": "17.89",
            "currency": "USD",
            "change": "-0.06",
            "change_pct": "-0.33",
            "volume": 182718,
            "as_of": "2026-11-20T21:00:00Z",
            "trade_date": "2026-11-20",
        },
    }
    (row,) = normalize(json.dumps(envelope).encode()).records
    assert isinstance(row, QuoteRow) and row.item["symbol"] == "ACMX"


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"\xff\xfe not utf-8", "invalid_utf8"),
        (b"{not json", "invalid_json"),
        (b"[1, 2]", "invalid_envelope"),
        (json.dumps({**product_envelope(), "schema": "product/9"}).encode(), "unknown_schema"),
        (json.dumps(product_envelope(price=None)).encode(), "invalid_item/no_price"),
        (json.dumps(product_envelope(price="-3")).encode(), "invalid_item/invalid/price"),
        (json.dumps(product_envelope(currency="XXX")).encode(), "invalid_item/invalid/currency"),
        (
            json.dumps({**product_envelope(), "fetched_at": "yesterday"}).encode(),
            "invalid_envelope/invalid/fetched_at",
        ),
    ],
)
def test_bad_messages_are_rejected_with_a_reason_and_their_bytes(payload, reason):
    batch = normalize(payload)
    assert batch.records == []
    (rejection,) = batch.rejections
    assert rejection.reason == reason
    assert rejection.payload == payload
    assert rejection.stage == "normalize"
    assert str(rejection.origin) == "sluice.raw.products[1]@7"


def test_the_archive_keeps_every_message_under_its_content_hash():
    good = json.dumps(product_envelope()).encode()
    doc = raw_document(FakeMessage(good))
    assert doc["_id"] == hashlib.sha256(good).hexdigest()
    assert doc["envelope"]["item"]["external_id"] == "SKU-1"
    assert doc["source"] == "shop.localhost" and doc["crawl_id"] == "ecommerce-1"
    assert doc["fetched_at"] == datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    bad = raw_document(FakeMessage(b"\xff broken"))
    assert bytes(bad["raw"]) == b"\xff broken" and "UTF-8" in bad["decode_error"]
    assert raw_document(FakeMessage(good))["_id"] == doc["_id"]


def test_an_oversized_message_is_dead_lettered_by_the_archive():
    batch = Batch()
    ArchiveHandler().handle(FakeMessage(b"x" * (MAX_DOCUMENT_BYTES + 1)), batch)
    assert batch.records == [] and batch.rejections[0].reason == "too_large"


def test_next_offsets_point_after_the_last_message_of_each_partition():
    messages = [FakeMessage(b"", offset=o, partition=p) for p, o in [(0, 5), (0, 9), (1, 3)]]
    got = sorted((tp.partition, tp.offset) for tp in next_offsets(messages))
    assert got == [(0, 10), (1, 4)]
