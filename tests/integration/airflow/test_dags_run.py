"""Each DAG run with ``dag.test()`` against the real platform (processors, worker pool, stores)."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from sluice.backup.remote import list_remote_backups
from sluice.storage.objects import ObjectStore
from sluice.storage.postgres import connect
from tests.support.airflow import run_dag
from tests.support.scratch_rows import scoped

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.kafka, pytest.mark.mongo]


def one(settings, query: str, *args):
    with connect(settings.postgres_reader_url) as conn:
        return conn.execute(query, args).fetchone()


def test_crawl_finance_crawls_the_days_quotes_and_records_the_run(
    platform, airflow_env, settings, demo_sources
):
    # A day no other test crawls, so every quote of it is this run's.
    day = date(2026, 1, 1) + timedelta(days=random.randrange(300))
    run = run_dag(settings, "crawl_finance", datetime(day.year, day.month, day.day, 22, tzinfo=UTC))
    assert run.state == "success"
    crawl_id, status, received, stored, rejected, params = one(
        settings,
        "SELECT crawl_id, status, items_received, items_stored, items_rejected, params "
        "FROM crawl_runs WHERE airflow_run_id = %s",
        run.run_id,
    )
    assert status == "finished" and params["date"] == day.isoformat()
    assert (received, stored, rejected) == (50, 50, 0)
    assert one(settings, "SELECT count(*) FROM quotes WHERE trade_date = %s", day)[0] == 50
    checks = one(
        settings, "SELECT count(*), bool_and(passed) FROM dq_results WHERE run_id = %s", crawl_id
    )
    assert checks[0] > 0 and checks[1] is True


def test_crawl_ecommerce_stores_the_demo_shop_and_records_the_run(
    platform, airflow_env, settings, demo_sources
):
    run = run_dag(settings, "crawl_ecommerce", workers=2)
    assert run.state == "success"
    status, received, rejected, workers, absences_counted = one(
        settings,
        "SELECT status, items_received, items_rejected, (params->>'workers')::int, "
        "absences_counted_at IS NOT NULL FROM crawl_runs WHERE airflow_run_id = %s",
        run.run_id,
    )
    # 545 valid public products reach Kafka; the one without a price is dropped by the spider.
    # A whole crawl of the registered sources: finalize counted what it did not see.
    assert (status, received, rejected, workers, absences_counted) == ("finished", 545, 0, 2, True)


def test_db_migrate_applies_nothing_twice(platform, airflow_env, settings):
    before = one(settings, "SELECT count(*), max(version) FROM schema_migrations")
    assert run_dag(settings, "db_migrate").state == "success"
    assert one(settings, "SELECT count(*), max(version) FROM schema_migrations") == before


def dq_failures(settings, run) -> tuple[int, set[str]]:
    """How many checks ``run`` of data_quality recorded, and the names of the failed ones."""
    with connect(settings.postgres_reader_url) as conn:
        rows = conn.execute(
            "SELECT check_name, passed FROM dq_results WHERE run_id = %s",
            (f"data_quality:{run.run_id}",),
        ).fetchall()
    return len(rows), {name for name, passed in rows if not passed}


def test_data_quality_succeeds_on_good_rows(platform, airflow_env, settings, scratch):
    with connect(settings.postgres_writer_url, autocommit=True) as conn:
        scratch.finished_run(conn, ended_hours_ago=25, items=10)
        scratch.products(conn, scratch.finished_run(conn, ended_hours_ago=1, items=10), 10)
    run = run_dag(settings, "data_quality", **scoped(scratch))
    assert run.state == "success"
    checks, failed = dq_failures(settings, run)
    assert checks > 0 and failed == set()


def test_data_quality_fails_on_a_currency_that_is_not_iso(platform, airflow_env, settings, scratch):
    with connect(settings.postgres_writer_url, autocommit=True) as conn:
        scratch.finished_run(conn, ended_hours_ago=25, items=10)
        crawl_id = scratch.finished_run(conn, ended_hours_ago=1, items=10)
        scratch.products(conn, crawl_id, 10, currency="XXY")
    run = run_dag(settings, "data_quality", retries=0, **scoped(scratch))
    assert run.state == "failed"
    assert dq_failures(settings, run)[1] == {"iso_currency"}


def test_pipeline_health_succeeds_when_the_scope_is_fresh(platform, airflow_env, settings, scratch):
    # Freshness and the dead-letter rate are the scratch spider's and source's; the lag is
    # the processors' (every source shares them), which the running platform keeps low.
    with connect(settings.postgres_writer_url, autocommit=True) as conn:
        scratch.products(conn, scratch.finished_run(conn, ended_hours_ago=1, items=3), 3)
    assert run_dag(settings, "pipeline_health", **scoped(scratch)).state == "success"


def test_pipeline_health_fails_when_a_spider_stopped_finishing_runs(
    platform, airflow_env, settings, scratch
):
    from sluice.health import check_health

    with connect(settings.postgres_writer_url, autocommit=True) as conn:
        # The source is fresh, but its spider's newest finished run ended 30 h ago (> 26 h).
        scratch.finished_run(conn, ended_hours_ago=30, items=3)
        scratch.products(conn, scratch.crawls[-1], 3)
    run = run_dag(settings, "pipeline_health", retries=0, **scoped(scratch))
    assert run.state == "failed"
    # ... and for that reason alone (the DAG's check, asked directly).
    with connect(settings.postgres_reader_url) as conn:
        report = check_health(
            conn, settings.kafka, spiders=[scratch.spider], sources=[scratch.source],
            dlq_spiders=[scratch.spider],
        )  # fmt: skip
    assert [(p.kind, p.subject) for p in report.problems] == [("spider", scratch.spider)]


def test_export_daily_writes_a_gzipped_csv_per_table(platform, airflow_env, settings):
    today = datetime.now(UTC).replace(hour=1, minute=30, second=0, microsecond=0)
    assert run_dag(settings, "export_daily", today).state == "success"
    day = (today - timedelta(days=1)).date().isoformat()  # the previous complete day
    # The copy in the object store is the one that outlives the pod's disk.
    stored = ObjectStore(settings).objects(settings.export_bucket, f"{day}/")
    assert {o.key.removeprefix(f"{day}/") for o in stored} >= {
        "products.csv.gz", "product_prices.csv.gz", "quotes.csv.gz", "crawl_runs.csv.gz"
    }  # fmt: skip


def test_dlq_redrive_sends_the_matching_records_back_once(platform, airflow_env, settings):
    reason = f"test_redrive_{uuid.uuid4().hex[:8]}"
    with connect(settings.postgres_writer_url, autocommit=True) as conn:
        conn.execute(
            'INSERT INTO rejected_items (topic, partition, "offset", stage, reason, payload) '
            "VALUES ('sluice.raw.quotes', 0, %s, 'normalize', %s, %s)",
            (random.randrange(10**12, 10**13), reason, b'{"schema": "quote/0"}'),
        )
    assert run_dag(settings, "dlq_redrive", reason=reason).state == "success"
    assert one(
        settings, "SELECT redriven_at IS NOT NULL FROM rejected_items WHERE reason = %s", reason
    ) == (True,)


def test_nightly_backup_writes_a_set_that_restores(platform, airflow_env, settings):
    run = run_dag(settings, "nightly_backup")
    assert run.state == "success"
    day = run.logical_date.date().isoformat()
    stored = list_remote_backups(ObjectStore(settings), settings.backup_bucket)
    assert day in [s.label for s in stored]


def test_reprocess_raw_replays_the_days_archive_and_changes_no_row(
    platform, airflow_env, settings, demo_sources
):
    # Its own crawl of the market puts today's quotes in the archive, whatever ran before.
    day = date(2026, 1, 1) + timedelta(days=random.randrange(300))
    crawl = run_dag(
        settings, "crawl_finance", datetime(day.year, day.month, day.day, 22, tzinfo=UTC)
    )
    assert crawl.state == "success"
    query = "SELECT count(*), max(updated_at) FROM quotes"
    before = one(settings, query)
    fetched = datetime.now(UTC).date().isoformat()  # the crawl's items were fetched today
    run = run_dag(
        settings, "reprocess_raw", source="market.localhost", schema="quote/1", day=fetched
    )
    assert run.state == "success"
    assert one(settings, query) == before
    stats = run.get_task_instance("reprocess").xcom_pull(task_ids="reprocess")
    assert stats["read"] >= 50 and stats["read"] == stats["written"] + stats["rejected"]
