"""Archiver and normalizer end to end: exactly-once effect, replay, dead letters, re-drive."""

from __future__ import annotations

import hashlib
import json
import random
import string
import threading
import time
import uuid

import pytest

from processors.app import build
from processors.redrive import redrive
from sluice.kafka.producer import make_producer
from sluice.schemas import envelope as envelope_module
from sluice.schemas.items import ProductItemSchema
from sluice.storage import versions
from sluice.storage.mongo import client as mongo_client
from sluice.storage.postgres import connect
from sluice.storage.redis import client as redis_client
from tests.support.crawling import wait_for
from tests.support.processing import answers, dlq_end_offsets, product, publish, quote, read_dlq

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.mongo]


def run(settings, group: str, topic: str, group_id: str | None = None, **options):
    """One processor group over ``topic`` until it is caught up."""
    runtime = build(
        settings,
        group,
        topics=[topic],
        consumer_group_id=group_id or f"test-{uuid.uuid4().hex}",
        batch_size=options.pop("batch_size", 50),
    )
    return runtime.run(until_idle=1.5, timeout=120, **options)


def archived_docs(raw, ids: list[str]) -> list[dict]:
    """The archived documents with these ids, in the order of ``ids`` (one query: the
    MongoDB-wire server scans, so a lookup per id would scan each time)."""
    found = {d["_id"]: d for d in raw.find({"_id": {"$in": list(set(ids))}})}
    return [found[i] for i in dict.fromkeys(ids) if i in found]


def daily_products(source: str, crawl_id: str, days: int, skus: int) -> list:
    """``skus`` products seen on each of ``days`` days, each day's price a unit higher."""
    return [
        product(source, f"SKU-{i}", f"{5 + day}.00", day, crawl_id)
        for day in range(days)
        for i in range(skus)
    ]


def symbols(n: int) -> list[str]:
    return ["T" + "".join(random.choices(string.ascii_uppercase, k=6)) for _ in range(n)]


def snapshot(settings, source: str, syms: list[str]) -> dict:
    with connect(settings.postgres_reader_url) as conn:
        return {
            "products": conn.execute(
                "SELECT xmin::text, * FROM products WHERE source = %s ORDER BY external_id",
                (source,),
            ).fetchall(),
            "prices": conn.execute(
                "SELECT pp.xmin::text, pp.* FROM product_prices pp JOIN products p "
                "ON p.id = pp.product_id WHERE p.source = %s ORDER BY pp.id",
                (source,),
            ).fetchall(),
            "quotes": conn.execute(
                "SELECT xmin::text, * FROM quotes WHERE symbol = ANY(%s) ORDER BY symbol, as_of",
                (syms,),
            ).fetchall(),
        }


def test_every_envelope_is_archived_once_and_every_valid_one_stored_once(
    migrated, settings, scratch_topic, source
):
    crawl_id = f"test-{uuid.uuid4().hex[:8]}"
    syms = symbols(3)
    # Ten products seen on three days; half change price on day 2, none on day 3.
    messages = []
    for day, bump in ((0, 0), (1, 1), (2, 1)):
        for i in range(10):
            price = f"{10 + i + (bump if i % 2 else 0)}.00"
            messages.append(product(source, f"SKU-{i}", price, day, crawl_id))
    # The quotes come from a finance crawl of their own: one crawl id belongs to one spider.
    messages += [quote(s, "12.34", 0, f"{crawl_id}-fin") for s in syms]
    bad = [
        (b"k1", b"not json at all"),
        (b"k2", b"\xff\xfe\x00 invalid utf-8"),
        (b"k3", json.dumps({"schema": "product/7", "crawl_id": crawl_id}).encode()),
        product(source, "SKU-BAD", "-1", 0, crawl_id),
        (
            b"k5",
            json.dumps(
                {
                    "schema": "product/1",
                    "crawl_id": crawl_id,
                    "item": {"price": "x" * (5 * 1024 * 1024)},
                }
            ).encode(),
        ),
    ]
    messages += bad
    dlq_starts = dlq_end_offsets(settings)
    publish(settings, scratch_topic, messages)

    cache = redis_client(settings.redis_url)
    versions_before = {e: versions.current(cache, e) for e in ("products", "quotes")}
    archived = run(settings, "archiver", scratch_topic)
    normalized = run(settings, "normalizer", scratch_topic)
    # Each committed batch bumped the data version of what it stored, for the API's cache keys.
    for entity in ("products", "quotes"):
        assert versions.current(cache, entity) > versions_before[entity]

    assert archived.consumed == normalized.consumed == len(messages)
    # Stored under their content hash: identical bytes (from any topic) are one document.
    ids = [hashlib.sha256(value).hexdigest() for _, value in messages]
    with mongo_client(settings.mongo_url, timeout=120) as mongo:
        raw = mongo.get_default_database().raw_items
        docs = archived_docs(raw, ids)
        assert len(docs) == len(set(ids)) == len(messages)
        assert sum("decode_error" in d for d in docs) == 2

    assert normalized.rejected == len(bad)
    assert normalized.rejections_by_reason == {
        "invalid_json": 1,
        "invalid_utf8": 1,
        "unknown_schema": 1,
        "invalid_item/invalid/price": 1,
        "invalid_envelope/no_spider": 1,
    }
    with connect(settings.postgres_reader_url) as conn:
        rows = conn.execute(
            "SELECT external_id, price, last_seen_at::date FROM products WHERE source = %s "
            "ORDER BY external_id",
            (source,),
        ).fetchall()
        assert len(rows) == 10
        assert {str(r[2]) for r in rows} == {"2026-11-03"}
        prices = conn.execute(
            "SELECT count(*) FROM product_prices pp JOIN products p ON p.id = pp.product_id "
            "WHERE p.source = %s",
            (source,),
        ).fetchone()[0]
        assert prices == 10 + 5  # first sighting of each, plus the five that changed on day 2
        assert (
            conn.execute("SELECT count(*) FROM quotes WHERE symbol = ANY(%s)", (syms,)).fetchone()[
                0
            ]
            == 3
        )
        rejected = conn.execute(
            "SELECT reason, length(payload) > 0 FROM rejected_items WHERE topic = %s",
            (scratch_topic,),
        ).fetchall()
        assert sorted(r[0] for r in rejected) == sorted(normalized.rejections_by_reason)
        assert all(r[1] for r in rejected)
        run_row = conn.execute(
            "SELECT spider, items_rejected FROM crawl_runs WHERE crawl_id = %s", (crawl_id,)
        ).fetchone()
        assert run_row == ("ecommerce", 3)  # the three bad messages that carried the crawl id
    dead = read_dlq(settings, dlq_starts, scratch_topic)
    assert len(dead) == len(bad)
    assert {h["reason"] for _, h in dead} == {r.encode() for r in normalized.rejections_by_reason}
    assert {v for v, _ in dead} == {value for _, value in bad}


def test_replaying_a_topic_from_offset_zero_changes_no_row(
    migrated, settings, scratch_topic, source
):
    crawl_id = f"test-{uuid.uuid4().hex[:8]}"
    syms = symbols(2)
    messages = daily_products(source, crawl_id, days=3, skus=8)
    messages += [quote(s, f"{20 + d}.00", d, crawl_id) for s in syms for d in range(2)]
    publish(settings, scratch_topic, messages)
    run(settings, "normalizer", scratch_topic)
    run(settings, "archiver", scratch_topic)
    before = snapshot(settings, source, syms)
    assert len(before["products"]) == 8 and len(before["prices"]) == 24
    ids = [hashlib.sha256(value).hexdigest() for _, value in messages]
    with mongo_client(settings.mongo_url, timeout=120) as mongo:
        first = archived_docs(mongo.get_default_database().raw_items, ids)
    assert len(first) == len(messages)

    # A new consumer group reads everything again from the first offset.
    again = run(settings, "normalizer", scratch_topic)
    assert again.consumed == len(messages) and again.rejected == 0
    run(settings, "archiver", scratch_topic)
    assert snapshot(settings, source, syms) == before  # xmin too: no row was even rewritten
    with mongo_client(settings.mongo_url, timeout=120) as mongo:
        again_docs = archived_docs(mongo.get_default_database().raw_items, ids)
    # The replay inserted nothing and rewrote nothing: each document is its first arrival.
    assert again_docs == first


def test_a_fixed_reader_takes_re_driven_records_once(
    migrated, settings, scratch_topic, source, monkeypatch
):
    crawl_id = f"test-{uuid.uuid4().hex[:8]}"
    key, value = product(source, "SKU-NEW", "9.99", 0, crawl_id)
    value = value.replace(b'"product/1"', b'"product/2"')
    with connect(settings.postgres_reader_url) as conn:
        began = conn.execute("SELECT now()").fetchone()[0]
    publish(settings, scratch_topic, [(key, value)])
    first = run(settings, "normalizer", scratch_topic, group_id=f"fix-{crawl_id}")
    assert first.rejections_by_reason == {"unknown_schema": 1}

    # The fix: the normalizer learns schema product/2. Then the re-drive.
    monkeypatch.setitem(envelope_module.ITEM_SCHEMAS, "product/2", ProductItemSchema)
    producer = make_producer(settings.kafka)
    with connect(settings.postgres_writer_url, autocommit=True) as conn:
        sent = redrive(conn, producer, reason="unknown_schema", since=began)
        assert sent.sent == 1
        assert scratch_topic in {
            r[0]
            for r in conn.execute(
                "SELECT topic FROM rejected_items WHERE id = ANY(%s)", (sent.ids,)
            ).fetchall()
        }
        assert redrive(conn, producer, reason="unknown_schema", since=began).sent == 0  # once

    second = run(settings, "normalizer", scratch_topic, group_id=f"fix-{crawl_id}")
    assert second.consumed == 1 and second.rejected == 0
    with connect(settings.postgres_reader_url) as conn:
        assert (
            conn.execute(
                "SELECT count(*) FROM products WHERE source = %s AND external_id = 'SKU-NEW'",
                (source,),
            ).fetchone()[0]
            == 1
        )


def test_a_postgres_outage_pauses_the_normalizer_and_loses_nothing(
    migrated, stack, settings, scratch_topic, source
):
    crawl_id = f"test-{uuid.uuid4().hex[:8]}"
    messages = [product(source, f"SKU-{i}", "3.00", 0, crawl_id) for i in range(40)]
    publish(settings, scratch_topic, messages)
    stack.supervisor.stop("postgres")
    result = {}
    runtime = build(
        settings,
        "normalizer",
        topics=[scratch_topic],
        consumer_group_id=f"outage-{crawl_id}",
        batch_size=10,
        backoff_max=2.0,
    )
    worker = threading.Thread(
        target=lambda: result.setdefault("stats", runtime.run(until_idle=2, timeout=180))
    )
    try:
        worker.start()
        time.sleep(6)
        assert worker.is_alive(), "the normalizer gave up during the outage"
    finally:
        stack.supervisor.start("postgres")
    postgres = next(s for s in stack.services if s.name == "postgres")
    wait_for(lambda: answers(postgres), 60, what="PostgreSQL to come back")
    worker.join(180)
    stats = result["stats"]
    assert stats.sink_retries > 0 and stats.rejected == 0 and stats.consumed == 40
    with connect(settings.postgres_reader_url) as conn:
        assert (
            conn.execute("SELECT count(*) FROM products WHERE source = %s", (source,)).fetchone()[0]
            == 40
        )


def test_rows_the_database_refuses_are_rejected_alone_and_a_replay_changes_nothing(
    migrated, settings, scratch_topic, source
):
    crawl_id = f"test-{uuid.uuid4().hex[:8]}"
    syms = symbols(2)
    messages = daily_products(source, crawl_id, days=2, skus=10)
    messages += [quote(s, "20.00", 0, crawl_id) for s in syms]
    # Valid for the contract, refused by the columns: numeric(18, 4), integer, bigint.
    refused = [
        product(source, "SKU-HUGE", "1e15", 0, crawl_id),
        product(source, "SKU-MANY", "3.00", 0, crawl_id, review_count=2**40),
    ]
    key, value = quote("TVOLUME", "1.00", 0, crawl_id)
    refused.append((key, value.replace(b'"volume": 100', f'"volume": {2**70}'.encode())))
    messages += refused
    dlq_starts = dlq_end_offsets(settings)
    publish(settings, scratch_topic, messages)

    first = run(settings, "normalizer", scratch_topic)
    assert first.consumed == len(messages)
    assert first.rejections_by_reason == {"storage/22003": len(refused)}
    before = snapshot(settings, source, [*syms, "TVOLUME"])
    assert len(before["products"]) == 10 and len(before["prices"]) == 20
    assert len(before["quotes"]) == 2
    with connect(settings.postgres_reader_url) as conn:
        stored = conn.execute(
            'SELECT "offset", stage, reason FROM rejected_items WHERE topic = %s',
            (scratch_topic,),
        ).fetchall()
        assert sorted(r[1:] for r in stored) == [("store", "storage/22003")] * len(refused)
        assert conn.execute(
            "SELECT items_stored, items_rejected FROM crawl_runs WHERE crawl_id = %s",
            (crawl_id,),
        ).fetchone() == (12, 3)
    dead = read_dlq(settings, dlq_starts, scratch_topic)
    assert {v for v, _ in dead} == {v for _, v in refused}

    again = run(settings, "normalizer", scratch_topic)
    assert again.rejections_by_reason == first.rejections_by_reason
    assert snapshot(settings, source, [*syms, "TVOLUME"]) == before
    with connect(settings.postgres_reader_url) as conn:
        assert (
            conn.execute(
                'SELECT "offset", stage, reason FROM rejected_items WHERE topic = %s',
                (scratch_topic,),
            ).fetchall()
            == stored
        )
