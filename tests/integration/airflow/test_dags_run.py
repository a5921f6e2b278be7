"""Each DAG run with ``dag.test()`` against the real platform (processors, worker pool, stores)."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from sluice.backup.remote import list_remote_backups
from sluice.storage.objects import ObjectStore
from sluice.storage.postgres import connect
from tests.support.airflow import load_dag

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.kafka, pytest.mark.mongo]


def run_dag(settings, dag_id: str, logical: datetime | None = None, **conf):
    """``dag.test()`` of ``dag_id``; the finished DagRun."""
    dag = load_dag(settings, dag_id)
    return dag.test(logical_date=logical or datetime.now(UTC), run_conf=conf or None)


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
    status, received, rejected, workers = one(
        settings,
        "SELECT status, items_received, items_rejected, (params->>'workers')::int "
        "FROM crawl_runs WHERE airflow_run_id = %s",
        run.run_id,
    )
    # 545 valid public products reach Kafka; the one without a price is dropped by the spider.
    assert (status, received, rejected, workers) == ("finished", 545, 0, 2)


def test_db_migrate_applies_nothing_twice(platform, airflow_env, settings):
    before = one(settings, "SELECT count(*), max(version) FROM schema_migrations")
    assert run_dag(settings, "db_migrate").state == "success"
    assert one(settings, "SELECT count(*), max(version) FROM schema_migrations") == before


def test_data_quality_records_every_check_and_fails_exactly_when_one_fails(
    platform, airflow_env, settings
):
    run = run_dag(settings, "data_quality")
    total, passed = one(
        settings,
        "SELECT count(*), bool_and(passed) FROM dq_results WHERE run_id = %s",
        f"data_quality:{run.run_id}",
    )
    assert total > 0
    assert run.state == ("success" if passed else "failed")


def test_pipeline_health_succeeds_exactly_when_the_pipeline_is_healthy(
    platform, airflow_env, settings
):
    from sluice.health import check_health

    run = run_dag(settings, "pipeline_health")
    with connect(settings.postgres_reader_url) as conn:
        healthy = check_health(conn, settings.kafka).is_healthy
    assert run.state == ("success" if healthy else "failed")


def test_export_daily_writes_a_gzipped_csv_per_table(platform, airflow_env, settings):
    today = datetime.now(UTC).replace(hour=1, minute=30, second=0, microsecond=0)
    assert run_dag(settings, "export_daily", today).state == "success"
    day = today.date().isoformat()
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


def test_reprocess_raw_replays_the_days_archive_and_changes_no_row(platform, airflow_env, settings):
    # Today's archived quotes (earlier tests crawled the market): a replay rewrites nothing.
    query = "SELECT count(*), max(updated_at) FROM quotes"
    before = one(settings, query)
    run = run_dag(settings, "reprocess_raw", source="market.localhost", schema="quote/1")
    assert run.state == "success"
    assert one(settings, query) == before
    stats = run.get_task_instance("reprocess").xcom_pull(task_ids="reprocess")
    assert stats["read"] > 0 and stats["read"] == stats["written"] + stats["rejected"]
