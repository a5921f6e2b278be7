"""The normalizer's crawl bookkeeping statement on the real PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from processors.sql import normalizer as sql
from sluice.storage.postgres import connect

pytestmark = [pytest.mark.postgres]

T0 = datetime(2026, 11, 1, 8, tzinfo=UTC)


def run_row(conn, crawl_id: str) -> tuple:
    return conn.execute(
        "SELECT xmin::text, spider, status, started_at, items_stored, items_rejected, updated_at "
        "FROM crawl_runs WHERE crawl_id = %s",
        (crawl_id,),
    ).fetchone()


def test_a_registered_run_is_filled_in_recounted_and_left_alone_when_nothing_changed(
    migrated, settings
):
    crawl_id = f"test-{uuid.uuid4().hex[:8]}"
    with connect(settings.postgres_url, autocommit=True) as conn:
        # Registered by Airflow before any item: no spider yet, a later start, pending.
        conn.execute(
            "INSERT INTO crawl_runs (crawl_id, status, started_at, updated_at) "
            "VALUES (%s, 'pending', %s, %s)",
            (crawl_id, T0 + timedelta(hours=1), T0),
        )
        conn.execute(
            'INSERT INTO rejected_items (topic, partition, "offset", crawl_id, stage, reason) '
            "VALUES (%s, 0, 1, %s, 'normalize', 'invalid_json')",
            (f"test.{crawl_id}", crawl_id),
        )
        with conn.transaction():
            sql.refresh_crawl_runs(conn, {crawl_id: {"spider": "ecommerce", "first": T0}})
        first = run_row(conn, crawl_id)
        assert first[1:6] == ("ecommerce", "pending", T0, 0, 1)
        assert first[6] > T0  # the counts changed

        with conn.transaction():
            sql.refresh_crawl_runs(conn, {crawl_id: {"spider": "finance", "first": T0}})
        assert run_row(conn, crawl_id) == first  # not even rewritten

        with conn.transaction():
            sql.refresh_crawl_runs(
                conn, {crawl_id: {"spider": None, "first": T0 - timedelta(hours=1)}}
            )
        earlier = run_row(conn, crawl_id)
        assert earlier[3] == T0 - timedelta(hours=1)
        assert earlier[6] == first[6]  # updated_at follows the counts alone


def test_an_unknown_run_is_made_running_with_its_counts(migrated, settings):
    crawl_id = f"test-{uuid.uuid4().hex[:8]}"
    with connect(settings.postgres_url, autocommit=True) as conn:
        with conn.transaction():
            sql.refresh_crawl_runs(conn, {crawl_id: {"spider": None, "first": T0}})
        assert run_row(conn, crawl_id)[1:6] == (None, "running", T0, 0, 0)
