"""Reprocessing archived envelopes, on an in-memory collection and sink: what is read, in which
order and batches, what is stored, rejected or skipped, and the command's arguments."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from click.testing import CliRunner
from pymongo.errors import CursorNotFound

from processors import reprocess as module
from processors.archiver import document_for
from processors.base import Batch, Origin, Sink
from processors.normalizer import ProductRow
from processors.reprocess import (
    ORDER,
    ReprocessStats,
    after,
    interval_query,
    origin_of,
    original_bytes,
    read_documents,
    reprocess,
    skip_reason,
)
from sluice.cli.reprocess import reprocess as reprocess_command
from sluice.schemas.envelope import encode
from tests.support.processing import product

DAY0 = datetime(2026, 11, 1, tzinfo=UTC)
DAY1 = DAY0 + timedelta(days=1)
DAY2 = DAY0 + timedelta(days=2)


def _matches(query: dict[str, Any], doc: dict[str, Any]) -> bool:
    """The subset of MongoDB's filter language that reprocessing uses."""
    for name, condition in query.items():
        if name == "$and":
            if not all(_matches(q, doc) for q in condition):
                return False
        elif name == "$or":
            if not any(_matches(q, doc) for q in condition):
                return False
        elif isinstance(condition, dict):
            value = doc.get(name)
            if value is None:
                return False
            tests = {
                "$gte": lambda v, c: v >= c,
                "$gt": lambda v, c: v > c,
                "$lt": lambda v, c: v < c,
            }
            if not all(tests[op](value, operand) for op, operand in condition.items()):
                return False
        elif doc.get(name) != condition:
            return False
    return True


class FakeCursor:
    def __init__(self, docs: list[dict], lose_after: int | None) -> None:
        self.docs, self.lose_after, self.closed = docs, lose_after, False

    def __iter__(self):
        for n, doc in enumerate(self.docs):
            if n == self.lose_after:
                raise CursorNotFound("cursor id 42 not found", 43)
            yield doc

    def close(self) -> None:
        self.closed = True


class FakeCollection:
    """An in-memory ``raw_items``: filters, sorts as asked, and can lose its cursor."""

    full_name = "sluice.raw_items"

    def __init__(self, docs: list[dict], lose_cursor_after: list[int] | None = None) -> None:
        self.docs = docs
        self.lose_cursor_after = list(lose_cursor_after or [])
        self.finds: list[dict] = []
        self.cursors: list[FakeCursor] = []

    def find(self, query, projection, sort, batch_size):
        self.finds.append({"query": query, "projection": projection, "sort": sort})
        assert sort == ORDER
        found = [d for d in self.docs if _matches(query, d)]
        found.sort(key=lambda d: (d["fetched_at"], d["_id"]))
        lose = self.lose_cursor_after.pop(0) if self.lose_cursor_after else None
        self.cursors.append(FakeCursor(found, lose))
        return self.cursors[-1]


class RecordingSink(Sink):
    """Keeps every batch it is given; refuses nothing."""

    def __init__(self) -> None:
        self.written: list[Batch] = []
        self.announced: list[Batch] = []
        self.closed = False

    def write(self, batch: Batch) -> None:
        self.written.append(batch)

    def after_commit(self, batch: Batch) -> None:
        self.announced.append(batch)

    def close(self) -> None:
        self.closed = True


def archived(value: bytes, offset: int, key: bytes | None = b"k") -> dict:
    """A raw document as the archiver stores (and MongoDB returns) it."""
    return document_for(value, Origin("sluice.raw.products", 2, offset, key))


def shop_product(sku: str, price: str, day: int, source: str = "shop.localhost") -> bytes:
    return product(source, sku, price, day, "crawl-1")[1]


def test_the_interval_is_half_open_on_fetched_at_and_narrowed_by_schema_and_source():
    assert interval_query(DAY0, DAY1) == {"fetched_at": {"$gte": DAY0, "$lt": DAY1}}
    assert interval_query(DAY0, DAY1, schema="product/1", source="shop.localhost") == {
        "fetched_at": {"$gte": DAY0, "$lt": DAY1},
        "schema": "product/1",
        "source": "shop.localhost",
    }


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (datetime(2026, 11, 1), DAY1, "no time zone"),
        (DAY0, datetime(2026, 11, 2), "no time zone"),
        (DAY1, DAY0, "before it starts"),
        ("2026-11-01", DAY1, "must be a datetime"),
    ],
)
def test_an_ambiguous_or_backwards_interval_is_refused(start, end, message):
    with pytest.raises(ValueError, match=message):
        interval_query(start, end)


def test_after_selects_what_follows_a_position_in_the_sort_order():
    docs = [
        {"_id": "b", "fetched_at": DAY0},
        {"_id": "a", "fetched_at": DAY0},
        {"_id": "c", "fetched_at": DAY0},
        {"_id": "a", "fetched_at": DAY1},
    ]
    following = [d for d in docs if _matches(after(DAY0, "b"), d)]
    assert following == [docs[2], docs[3]]


def test_an_archived_envelope_gives_back_its_exact_bytes_and_origin():
    tests_form = shop_product("SKU-1", "9.50", 0)  # json.dumps defaults, as tools write it
    wire_form = encode({**json.loads(tests_form), "source": "ünïcode.localhost"})  # spiders
    for value in (tests_form, wire_form):
        doc = archived(value, offset=11)
        assert original_bytes(doc) == (value, True)
        assert origin_of(doc) == Origin("sluice.raw.products", 2, 11, b"k")


def test_bytes_that_cannot_be_reproduced_are_re_encoded_in_the_wire_form():
    spaced = json.dumps(json.loads(shop_product("SKU-1", "9.50", 0)), indent=1).encode()
    doc = archived(spaced, offset=1)
    value, exact = original_bytes(doc)
    assert not exact
    assert value == encode(doc["envelope"]) and json.loads(value) == json.loads(spaced)


def test_an_archived_message_without_a_key_has_no_key():
    assert origin_of(archived(b"{}", offset=3, key=None)).key is None


@pytest.mark.parametrize(
    ("doc", "reason"),
    [
        (archived(b"\xff not utf-8", 1), "decode_error"),
        (archived(b"[1, 2]", 1), "decode_error"),
        ({"_id": "x", "topic": "t", "partition": 0, "offset": 1}, "no_envelope"),
        ({"_id": "x", "envelope": {}, "partition": 0, "offset": 1}, "no_origin"),
        ({"_id": "x", "envelope": {}, "topic": "t", "partition": "?", "offset": 1}, "no_origin"),
        (archived(b"{}", 1), None),
    ],
)
def test_documents_without_an_envelope_or_an_origin_are_skipped(doc, reason):
    assert skip_reason(doc) == reason


def test_reprocess_feeds_the_interval_oldest_first_in_batches_and_counts_everything():
    docs = [
        archived(shop_product("SKU-2", "12.00", 0), offset=1),
        archived(shop_product("SKU-1", "10.00", 0), offset=2),
        archived(shop_product("SKU-1", "11.00", 1), offset=3),  # day 1: out of the interval
        archived(shop_product("SKU-BAD", "-1", 0), offset=4),
        archived(shop_product("SKU-3", "5.00", 0, source="other.localhost"), offset=5),
    ]
    raw = FakeCollection(docs)
    sink = RecordingSink()
    stats = reprocess(raw, sink, DAY0, DAY1, batch_size=2, source="shop.localhost")

    assert raw.finds[0]["query"] == {
        "fetched_at": {"$gte": DAY0, "$lt": DAY1},
        "source": "shop.localhost",
    }
    assert "raw" not in raw.finds[0]["projection"]
    assert len(raw.finds) == 1  # one cursor for the whole interval
    assert raw.cursors[0].closed
    # The three day-0 products of the shop, two to a batch.
    assert stats == ReprocessStats(
        read=3,
        written=2,
        rejected=1,
        skipped=0,
        batches=2,
        rejections_by_reason={"invalid_item/invalid/price": 1},
    )
    rows = [r for b in sink.written for r in b.records]
    assert all(isinstance(r, ProductRow) for r in rows)
    assert {r.item["external_id"]: r.item["price"] for r in rows} == {
        "SKU-1": Decimal("10.00"),
        "SKU-2": Decimal("12.00"),
    }
    (rejection,) = [r for b in sink.written for r in b.rejections]
    assert rejection.origin == Origin("sluice.raw.products", 2, 4, b"k")
    assert rejection.payload == shop_product("SKU-BAD", "-1", 0)
    assert rejection.stage == "normalize" and rejection.crawl_id == "crawl-1"
    # Each batch was announced after it was written (data versions); a given sink stays open.
    assert sink.announced == sink.written and not sink.closed


def test_undecodable_documents_in_the_interval_are_skipped_and_counted():
    # The archiver gives an undecodable message no fetched_at; another writer might.
    undecodable = {**archived(b"\xff", offset=6), "fetched_at": DAY0 + timedelta(hours=9)}
    good = archived(shop_product("SKU-1", "10.00", 0), offset=2)
    sink = RecordingSink()
    stats = reprocess(FakeCollection([undecodable, good]), sink, DAY0, DAY1)
    assert (stats.read, stats.written, stats.skipped) == (2, 1, 1)
    assert stats.skipped_by_reason == {"decode_error": 1}


def test_a_batch_of_skipped_documents_writes_nothing():
    undecodable = {**archived(b"\xff", offset=6), "fetched_at": DAY0 + timedelta(hours=9)}
    sink = RecordingSink()
    stats = reprocess(FakeCollection([undecodable]), sink, DAY0, DAY1)
    assert sink.written == [] and stats.batches == 1 and stats.skipped == 1


def test_a_handler_failure_is_a_rejection_as_on_the_kafka_path(monkeypatch):
    def broken(self, payload, origin, batch):
        raise KeyError("surprise")

    monkeypatch.setattr(module.NormalizeHandler, "handle_value", broken)
    sink = RecordingSink()
    stats = reprocess(
        FakeCollection([archived(shop_product("SKU-1", "10.00", 0), offset=2)]),
        sink,
        DAY0,
        DAY1,
    )
    assert stats.rejections_by_reason == {"handler_error/KeyError": 1}
    assert sink.written[0].rejections[0].origin.offset == 2


def test_an_empty_interval_reads_nothing():
    raw = FakeCollection([archived(shop_product("SKU-1", "10.00", 0), offset=2)])
    assert reprocess(raw, RecordingSink(), DAY0, DAY0) == ReprocessStats()
    assert raw.finds == []


def test_a_lost_cursor_resumes_after_the_last_document_read():
    docs = [archived(shop_product(f"SKU-{i}", "10.00", 0), offset=i) for i in range(5)]
    raw = FakeCollection(docs, lose_cursor_after=[2, 1])
    query = interval_query(DAY0, DAY1)
    got = [d["_id"] for d in read_documents(raw, query, batch_size=2)]
    assert got == sorted(d["_id"] for d in docs)  # each once, in order
    assert len(raw.finds) == 3 and all(c.closed for c in raw.cursors)
    assert raw.finds[1]["query"]["$and"][0] == query


def test_a_cursor_lost_again_and_again_stops_with_the_position():
    docs = [archived(shop_product(f"SKU-{i}", "10.00", 0), offset=i) for i in range(9)]
    raw = FakeCollection(docs, lose_cursor_after=[1] * (module.MAX_RESUMES + 1))
    with pytest.raises(module.ReprocessError, match="dropped the cursor"):
        list(read_documents(raw, interval_query(DAY0, DAY1), batch_size=2))


def test_a_store_outage_stops_with_the_batch_and_position():
    class Down(RecordingSink):
        def write(self, batch: Batch) -> None:
            raise module.SinkUnavailable("PostgreSQL: connection refused")

    doc = archived(shop_product("SKU-1", "10.00", 0), offset=2)
    with pytest.raises(module.ReprocessError, match=rf"batch 1 .*_id={doc['_id']}.*refused"):
        reprocess(FakeCollection([doc]), Down(), DAY0, DAY1)


def test_a_connection_factory_gets_a_sink_of_its_own_closed_at_the_end(monkeypatch):
    made = []

    class OwnSink(RecordingSink):
        def __init__(self, connect) -> None:
            super().__init__()
            made.append(self)

    monkeypatch.setattr(module, "PostgresSink", OwnSink)
    doc = archived(shop_product("SKU-1", "10.00", 0), offset=2)
    reprocess(FakeCollection([doc]), lambda: None, DAY0, DAY1)
    assert made[0].closed and len(made[0].written) == 1


def test_the_command_reads_times_in_utc_and_prints_json(monkeypatch, settings):
    calls = []

    def fake(settings, start, end, **options):
        calls.append((start, end, options))
        return ReprocessStats(read=3, written=2, rejected=1)

    monkeypatch.setattr(module, "reprocess_with_settings", fake)
    result = CliRunner().invoke(
        reprocess_command,
        ["--start", "2026-11-01", "--end", "2026-11-02T02:00:00+02:00", "--schema", "product/1"],
        obj=settings,
    )
    assert result.exit_code == 0, result.output
    assert "3 raw items read, 2 stored, 1 rejected" in result.output
    start, end, options = calls[0]
    assert start == DAY0 and end == DAY1
    assert end.utcoffset() == timedelta(hours=2) and start.tzinfo == UTC
    assert options == {"batch_size": 500, "schema": "product/1", "source": None}

    result = CliRunner().invoke(
        reprocess_command,
        ["--start", "2026-11-01T00:00:00Z", "--end", "2026-11-02", "--json"],
        obj=settings,
    )
    assert json.loads(result.output)["written"] == 2
    assert json.loads(result.output)["start"] == "2026-11-01T00:00:00+00:00"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--start", "yesterday", "--end", "2026-11-02"], "not an ISO 8601"),
        (["--start", "2026-11-02", "--end", "2026-11-02"], "is not after --start"),
        (["--start", "2026-11-02", "--end", "2026-11-01"], "is not after --start"),
    ],
)
def test_the_command_refuses_a_bad_interval_before_touching_a_store(
    monkeypatch, settings, args, message
):
    monkeypatch.setattr(module, "reprocess_with_settings", pytest.fail)
    result = CliRunner().invoke(reprocess_command, args, obj=settings)
    assert result.exit_code == 2 and message in result.output


def test_the_command_reports_a_store_failure_as_an_error(monkeypatch, settings):
    def down(*_: object, **__: object):
        raise module.ReprocessError("MongoDB sluice.raw_items: reading ... failed")

    monkeypatch.setattr(module, "reprocess_with_settings", down)
    result = CliRunner().invoke(
        reprocess_command, ["--start", "2026-11-01", "--end", "2026-11-02"], obj=settings
    )
    assert result.exit_code == 1 and "MongoDB sluice.raw_items" in result.output
