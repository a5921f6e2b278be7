"""Reprocessing from the raw archive on the real Kafka, FerretDB and PostgreSQL: an interval's
rows come back as the normalizer wrote them, other days stay untouched, a rerun changes nothing."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from processors.app import build
from processors.reprocess import reprocess_with_settings
from sluice.cli.reprocess import reprocess as reprocess_command
from sluice.storage import versions
from sluice.storage.postgres import connect
from sluice.storage.redis import client as redis_client
from tests.support.processing import product, publish

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.mongo]

# tests.support.processing.product() fetches day N at 08:00 UTC of 2026-11-(1+N).
DAY0 = datetime(2026, 11, 1, tzinfo=UTC)
DAY1 = DAY0 + timedelta(days=1)
DAY2 = DAY0 + timedelta(days=2)


def run(settings, group: str, topic: str):
    """One processor group over ``topic``, in a fresh consumer group, until caught up."""
    runtime = build(settings, group, topics=[topic], consumer_group_id=f"test-{uuid.uuid4().hex}")
    return runtime.run(until_idle=1.5, timeout=120)


def snapshot(settings, source: str, topic: str, crawl_id: str) -> dict:
    """Every row the source, topic and crawl touch, with xmin: equal means not rewritten."""
    with connect(settings.postgres_reader_url) as conn:
        return {
            "products": conn.execute(
                "SELECT xmin::text, * FROM products WHERE source = %s ORDER BY external_id",
                (source,),
            ).fetchall(),
            "prices": conn.execute(
                "SELECT pp.xmin::text, p.external_id, pp.* FROM product_prices pp "
                "JOIN products p ON p.id = pp.product_id WHERE p.source = %s "
                "ORDER BY p.external_id, pp.observed_at",
                (source,),
            ).fetchall(),
            "rejected": conn.execute(
                "SELECT xmin::text, * FROM rejected_items WHERE topic = %s ORDER BY id", (topic,)
            ).fetchall(),
            "crawl": conn.execute(
                "SELECT xmin::text, * FROM crawl_runs WHERE crawl_id = %s", (crawl_id,)
            ).fetchall(),
        }


def content(settings, source: str, topic: str, crawl_id: str) -> dict:
    """The same rows without ids, xmin and write times: what a rebuild must reproduce."""
    with connect(settings.postgres_reader_url) as conn:
        return {
            "products": conn.execute(
                "SELECT external_id, name, brand, category, price, currency, availability, "
                "rating, review_count, image_url, url, first_seen_at, last_seen_at, "
                "last_crawl_id FROM products WHERE source = %s ORDER BY external_id",
                (source,),
            ).fetchall(),
            "prices": conn.execute(
                "SELECT p.external_id, pp.price, pp.currency, pp.availability, pp.observed_at, "
                "pp.crawl_id FROM product_prices pp JOIN products p ON p.id = pp.product_id "
                "WHERE p.source = %s ORDER BY 1, pp.observed_at",
                (source,),
            ).fetchall(),
            "rejected": conn.execute(
                'SELECT partition, "offset", message_key, crawl_id, stage, reason, payload '
                "FROM rejected_items WHERE topic = %s ORDER BY 1, 2",
                (topic,),
            ).fetchall(),
            "crawl": conn.execute(
                "SELECT spider, items_stored, items_rejected FROM crawl_runs WHERE crawl_id = %s",
                (crawl_id,),
            ).fetchall(),
        }


def test_an_interval_is_rebuilt_from_the_archive_once_and_only_that_interval(
    migrated, settings, scratch_topic, source
):
    crawl_id = f"test-{uuid.uuid4().hex[:8]}"
    # Four products seen on two days; the odd ones change price on day 1. One invalid price.
    messages = [
        product(source, f"SKU-{i}", f"{10 + i + (day if i % 2 else 0)}.00", day, crawl_id)
        for day in (0, 1)
        for i in range(4)
    ]
    bad = product(source, "SKU-BAD", "-1", 0, crawl_id)
    publish(settings, scratch_topic, [*messages, bad])
    # Side by side, as in production: neither reads what the other writes.
    with ThreadPoolExecutor(2) as pool:
        archived, normalized = pool.map(
            lambda group: run(settings, group, scratch_topic), ("archiver", "normalizer")
        )
    assert archived.consumed == len(messages) + 1 and normalized.rejected == 1
    streamed = content(settings, source, scratch_topic, crawl_id)
    assert len(streamed["products"]) == 4 and len(streamed["prices"]) == 4 + 2
    assert len(streamed["rejected"]) == 1

    # Lose the processed rows of the source (prices cascade) and its rejection.
    with connect(settings.postgres_writer_url, autocommit=True) as conn:
        conn.execute("DELETE FROM products WHERE source = %s", (source,))
        conn.execute("DELETE FROM rejected_items WHERE topic = %s", (scratch_topic,))

    cache = redis_client(settings.redis_url)
    version_before = versions.current(cache, "products")
    stats = reprocess_with_settings(settings, DAY0, DAY1, source=source, batch_size=3)
    assert stats.as_dict() == {
        "read": 5,
        "written": 4,
        "rejected": 1,
        "skipped": 0,
        "batches": 2,
        "reencoded": 0,  # the archive gave back the exact bytes of every message
        "rejections_by_reason": {"invalid_item/invalid/price": 1},
        "skipped_by_reason": {},
    }
    assert versions.current(cache, "products") > version_before  # API caches see the rows

    day0 = content(settings, source, scratch_topic, crawl_id)
    # Day 0 only: each product as first seen, one price row each, nothing of day 1.
    assert [(r[0], str(r[4]), r[11], r[12]) for r in day0["products"]] == [
        (f"SKU-{i}", f"{10 + i}.0000", DAY0 + timedelta(hours=8), DAY0 + timedelta(hours=8))
        for i in range(4)
    ]
    assert [(r[0], str(r[1]), r[4]) for r in day0["prices"]] == [
        (f"SKU-{i}", f"{10 + i}.0000", DAY0 + timedelta(hours=8)) for i in range(4)
    ]
    # The rejection is back once, under the topic, partition and offset it arrived at.
    assert day0["rejected"] == streamed["rejected"]
    assert bytes(day0["rejected"][0][-1]) == bad[1]
    assert day0["crawl"] == [("ecommerce", 4, 1)]

    # Rerunning the interval (from the command line) rewrites no row at all.
    before = snapshot(settings, source, scratch_topic, crawl_id)
    result = CliRunner().invoke(
        reprocess_command,
        ["--start", "2026-11-01", "--end", "2026-11-02T00:00:00Z", "--source", source],
        obj=settings,
    )
    assert result.exit_code == 0, result.output
    assert snapshot(settings, source, scratch_topic, crawl_id) == before

    # The next interval brings the rows to what the stream had written.
    day1 = reprocess_with_settings(settings, DAY1, DAY2, source=source)
    assert (day1.read, day1.written, day1.rejected) == (4, 4, 0)
    assert content(settings, source, scratch_topic, crawl_id) == streamed
