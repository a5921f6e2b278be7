"""Each DAG run with ``dag.test()`` against the real platform (processors, worker pool, stores)."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pytest

from sluice.backup.remote import list_remote_backups
from sluice.storage.objects import ObjectStore
from sluice.storage.postgres import connect
from tests.support.airflow import load_dag

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.kafka, pytest.mark.mongo]


def run_dag(
    settings, dag_id: str, logical: datetime | None = None, retries: int | None = None, **conf
):
    """``dag.test()`` of ``dag_id``; the finished DagRun.

    ``retries`` replaces every task's: a run that must fail would only fail again after
    the retry delay.
    """
    dag = load_dag(settings, dag_id)
    if retries is not None:
        for task in dag.tasks:
            task.retries = retries
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


INSERT_RUN = """
INSERT INTO crawl_runs (crawl_id, spider, status, started_at, finished_at, items_stored)
VALUES (%s, %s, 'finished', %s, %s, %s)
"""
INSERT_PRODUCT = """
INSERT INTO products (source, external_id, name, brand, category, price, currency,
    availability, url, first_seen_at, last_seen_at, last_crawl_id, updated_at)
VALUES (%(source)s, %(sku)s, %(name)s, 'Acme', 'tools', %(price)s, %(currency)s, 'in_stock',
    %(url)s, %(at)s, %(at)s, %(crawl_id)s, %(at)s)
"""


@dataclass
class Scratch:
    """A spider and a source of one test's own, and the crawl runs it recorded for them."""

    spider: str
    source: str
    now: datetime
    crawls: list[str] = field(default_factory=list)

    def finished_run(self, conn, ended_hours_ago: float, items: int) -> str:
        """Record a finished crawl run of the spider that ended ``ended_hours_ago``."""
        crawl_id = f"{self.spider}-{len(self.crawls) + 1}"
        ended = self.now - timedelta(hours=ended_hours_ago)
        conn.execute(
            INSERT_RUN, (crawl_id, self.spider, ended - timedelta(minutes=30), ended, items)
        )
        self.crawls.append(crawl_id)
        return crawl_id

    def products(self, conn, crawl_id: str, n: int, **row0) -> None:
        """Store ``n`` good products of the source from ``crawl_id``; ``row0`` changes the first."""
        for i in range(n):
            row = {
                "source": self.source,
                "sku": f"SKU-{i}",
                "name": f"Product {i}",
                "price": f"{i + 1}.50",
                "currency": "EUR",
                "url": f"http://{self.source}/p/{i}",
                "at": self.now - timedelta(minutes=5),
                "crawl_id": crawl_id,
            }
            conn.execute(INSERT_PRODUCT, row | (row0 if i == 0 else {}))


@pytest.fixture
def scratch(settings, migrated) -> Iterator[Scratch]:
    """A spider and a source no other test uses; their rows are deleted afterwards.

    The data_quality and pipeline_health runs below are scoped to these names (their
    ``sources``/``spiders`` params), so what other tests left in the shared database does
    not change their outcome.
    """
    tag = uuid.uuid4().hex[:8]
    with connect(settings.postgres_writer_url, autocommit=True) as conn:
        now = conn.execute("SELECT now()").fetchone()[0]
        made = Scratch(f"test-{tag}", f"test-{tag}.localhost", now)
        try:
            yield made
        finally:
            conn.execute("DELETE FROM products WHERE source = %s", (made.source,))
            conn.execute("DELETE FROM crawl_runs WHERE spider = %s", (made.spider,))
            conn.execute("DELETE FROM dq_results WHERE scope LIKE %s", (f"%{made.spider}%",))


def scoped(scratch: Scratch) -> dict[str, list[str]]:
    """The run conf that narrows a check DAG to the scratch spider and source."""
    return {"sources": [scratch.source], "spiders": [scratch.spider]}


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
    run = run_dag(settings, "reprocess_raw", source="market.localhost", schema="quote/1")
    assert run.state == "success"
    assert one(settings, query) == before
    stats = run.get_task_instance("reprocess").xcom_pull(task_ids="reprocess")
    assert stats["read"] >= 50 and stats["read"] == stats["written"] + stats["rejected"]
