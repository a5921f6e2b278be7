"""The normalizer's crawl bookkeeping statement on the real PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from processors.sql import normalizer as sql
from sluice.storage.postgres import connect
from tests.support.crawling import wait_for

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


def add_products(conn, crawl_id: str, source: str, names: range) -> None:
    for n in names:
        conn.execute(
            "INSERT INTO products (source, external_id, name, price, currency, url, first_seen_at,"
            " last_seen_at, last_crawl_id) VALUES (%s, %s, 'x', 1, 'EUR', 'http://x/', %s, %s, %s)",
            (source, f"p{n}", T0, T0, crawl_id),
        )


def waiting_on_a_lock(conn, pid: int) -> bool:
    row = conn.execute("SELECT count(*) FROM pg_locks WHERE pid = %s AND NOT granted", (pid,))
    return row.fetchone()[0] > 0


def test_two_replicas_storing_one_crawl_at_once_leave_its_full_count(migrated, settings):
    """Two normalizers' batches of one crawl, each recounting before the other commits: the
    count that stays is the whole crawl's, not the rows of whichever committed last."""
    import threading

    crawl_id, source = f"test-{uuid.uuid4().hex[:8]}", f"race-{uuid.uuid4().hex[:8]}"
    crawl = {crawl_id: {"spider": "ecommerce", "first": T0}}
    url = settings.postgres_writer_url
    with connect(settings.postgres_url, autocommit=True) as owner:
        owner.execute(
            "INSERT INTO crawl_runs (crawl_id, status) VALUES (%s, 'running')", (crawl_id,)
        )
        with connect(url) as first, connect(url) as second:
            add_products(first, crawl_id, source, range(2))
            sql.refresh_crawl_runs(first, crawl)  # holds the recount until it commits
            add_products(second, crawl_id, source, range(2, 5))
            recount = threading.Thread(target=sql.refresh_crawl_runs, args=(second, crawl))
            recount.start()
            try:
                wait_for(lambda: waiting_on_a_lock(owner, second.info.backend_pid), 10,
                         what="the second recount to wait")  # fmt: skip
            finally:
                # Released whatever happened, so the connections can close.
                first.commit()
                recount.join(10)
            second.commit()
        stored = run_row(owner, crawl_id)[4]
        owner.execute("DELETE FROM products WHERE source = %s", (source,))
        owner.execute("DELETE FROM crawl_runs WHERE crawl_id = %s", (crawl_id,))
    assert stored == 5
