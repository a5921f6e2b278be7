"""An analyst backfills trading-day partitions of crawl_finance through the running Airflow's
REST API, with the official client (apache-airflow-client), as a script would: a dry run lists
the trading days, the backfill stores each day's quotes and export_quotes follows each
partition, a second backfill of only the failed days touches nothing, and a reversed or
wholly future range is refused with a message naming the problem, starting no run."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from airflow_client.client import ApiClient, Configuration
from airflow_client.client.api.backfill_api import BackfillApi
from airflow_client.client.api.dag_run_api import DagRunApi
from airflow_client.client.exceptions import ApiException
from airflow_client.client.models.backfill_post_body import BackfillPostBody
from airflow_client.client.models.reprocess_behavior import ReprocessBehavior

from sluice.crawl.specs import crawl_spec
from sluice.storage.postgres import connect
from tests.support.airflow import AirflowApi, unpaused
from tests.support.crawling import wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.kafka, pytest.mark.mongo]

DAG_ID = "crawl_finance"
FOLLOWER = "export_quotes"
QUALITY = "data_quality"


def body(settings, first: datetime, last: datetime, behaviour: str = "none") -> BackfillPostBody:
    """A backfill of the demo market (its runs' conf names it: no source to register, so the
    module's one backfill needs no per-test fixture)."""
    market = settings.demo_site_url.rstrip("/") + crawl_spec("finance").demo_path
    return BackfillPostBody(
        dag_id=DAG_ID,
        from_date=first,
        to_date=last,
        reprocess_behavior=ReprocessBehavior(behaviour),
        max_active_runs=3,
        dag_run_conf={"start_urls": [market]},
    )


def runs_of(runs: DagRunApi, dag_id: str, days: list[date]) -> list:
    found = runs.get_dag_runs(
        dag_id, partition_date_gte=days[0], partition_date_lte=days[-1], limit=100
    ).dag_runs
    return [r for r in found if r.partition_key in {d.isoformat() for d in days}]


def wait_ended(runs: DagRunApi, dag_id: str, days: list[date], timeout: float = 600) -> list:
    """The runs of ``days``' partitions once there is one per day and all have ended."""

    def ended() -> bool:
        found = runs_of(runs, dag_id, days)
        return len(found) >= len(days) and all(r.state in ("success", "failed") for r in found)

    wait_for(ended, timeout, 3, what=f"the {dag_id} runs of {days} to end")
    return runs_of(runs, dag_id, days)


@pytest.fixture(scope="module")
def backfilled(platform, settings):
    """A backfill over Friday to Tuesday of a week no other test crawls, run to its end."""
    with unpaused(AirflowApi(settings), (DAG_ID, FOLLOWER, QUALITY)) as api:
        config = Configuration(host=settings.airflow_url.rstrip("/"), access_token=api.token)
        with ApiClient(config) as client:
            friday = date(2026, 1, 2) + timedelta(weeks=random.randrange(40))
            first = datetime(friday.year, friday.month, friday.day, tzinfo=UTC)
            last = first + timedelta(days=4, hours=23)
            backfills, runs = BackfillApi(client), DagRunApi(client)
            days = [friday, friday + timedelta(days=3), friday + timedelta(days=4)]
            forget(runs, days)
            dry = backfills.create_backfill_dry_run(body(settings, first, last))
            made = backfills.create_backfill(body(settings, first, last))
            crawled = wait_ended(runs, DAG_ID, days)
            exported = wait_ended(runs, FOLLOWER, days)
            checked = wait_ended(runs, QUALITY, days)
            close(backfills, made.id)
            yield {
                "client": client, "dry": dry, "days": days, "crawled": crawled,
                "exported": exported, "checked": checked, "range": (first, last),
            }  # fmt: skip


def forget(runs: DagRunApi, days: list[date]) -> None:
    """Delete the runs an earlier session on this stack made for ``days``' partitions, so
    that the backfill, and the DAGs that follow it, make new ones."""
    for dag_id in (DAG_ID, FOLLOWER, QUALITY):
        for run in runs_of(runs, dag_id, days):
            runs.delete_dag_run(dag_id, run.dag_run_id)


def close(backfills: BackfillApi, backfill_id: int) -> None:
    """End a backfill whose runs have all been made and have ended (only one backfill of a DAG
    may be open at a time), without waiting for the scheduler's next 30 s sweep to."""
    try:
        backfills.cancel_backfill(backfill_id)
    except ApiException as exc:
        if exc.status != 409:  # 409: the scheduler closed it first
            raise


def test_the_dry_run_lists_the_trading_days_of_the_range(backfilled):
    keys = [b.partition_key for b in backfilled["dry"].backfills]
    assert keys == [d.isoformat() for d in backfilled["days"]]


def test_the_backfill_stores_each_days_quotes_and_export_quotes_follows(backfilled, settings):
    run_ids = [r.dag_run_id for r in backfilled["crawled"]]
    with connect(settings.postgres_reader_url) as conn:
        stored = dict(
            conn.execute(
                "SELECT q.trade_date::text, count(*) FROM quotes q JOIN crawl_runs r "
                "USING (crawl_id) WHERE r.airflow_run_id = ANY(%s) GROUP BY 1",
                (run_ids,),
            ).fetchall()
        )
    files = settings.export_dir
    exported = {
        r.partition_key: (r.state, (files / r.partition_key / "quotes.csv.gz").exists())
        for r in backfilled["exported"]
    }
    days = [d.isoformat() for d in backfilled["days"]]
    assert (stored, exported) == (dict.fromkeys(days, 50), dict.fromkeys(days, ("success", True)))


def test_a_backfill_of_the_failed_days_touches_nothing(backfilled, settings):
    backfills = BackfillApi(backfilled["client"])
    runs = DagRunApi(backfilled["client"])
    before = {r.dag_run_id for r in runs_of(runs, DAG_ID, backfilled["days"])}
    first, last = backfilled["range"]
    dry = backfills.create_backfill_dry_run(body(settings, first, last, "failed"))
    made = backfills.create_backfill(body(settings, first, last, "failed"))
    close(backfills, made.id)
    after = {r.dag_run_id for r in runs_of(runs, DAG_ID, backfilled["days"])}
    assert (dry.total_entries, after) == (0, before)


@pytest.mark.parametrize(
    ("shift", "message"),
    [
        ("reversed", "must not be after to_date"),
        ("future", "cannot be executed for future dates"),
    ],
)
def test_a_reversed_or_future_range_is_refused_naming_it(backfilled, settings, shift, message):
    backfills = BackfillApi(backfilled["client"])
    first, last = backfilled["range"]
    if shift == "reversed":
        first, last = last, first
    else:
        first = datetime.now(UTC) + timedelta(days=30)
        last = first + timedelta(days=4)
    listed = backfills.list_backfills(DAG_ID, limit=100).total_entries
    with pytest.raises(ApiException) as refused:
        backfills.create_backfill(body(settings, first, last))
    after = backfills.list_backfills(DAG_ID, limit=100).total_entries
    assert (refused.value.status, message in refused.value.body, after) == (422, True, listed)


def test_data_quality_checks_each_partitions_crawl(backfilled, settings):
    crawled = {r.partition_key: r.dag_run_id for r in backfilled["crawled"]}
    with connect(settings.postgres_reader_url) as conn:
        checked = {
            r.partition_key: (
                r.state,
                conn.execute(
                    "SELECT array_agg(DISTINCT c.airflow_run_id) FROM dq_results d "
                    "JOIN crawl_runs c ON d.details->>'crawl_id' = c.crawl_id "
                    "WHERE d.run_id = %s",
                    (f"{QUALITY}:{r.dag_run_id}",),
                ).fetchone()[0],
            )
            for r in backfilled["checked"]
        }
    assert checked == {day: ("success", [run]) for day, run in crawled.items()}
