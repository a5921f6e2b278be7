"""An analyst's path through the running Airflow's REST API: trigger a crawl of the demo shop
and a three-day backfill of crawl_finance, then find exactly that data: the runs' records in
PostgreSQL, the crawled rows through the served API."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest

from demo.catalog import Catalog
from sluice.storage.postgres import connect
from tests.support.airflow import AirflowApi, unpaused
from tests.support.served_api import api_key, listing

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.kafka, pytest.mark.mongo]


@pytest.fixture
def api(platform, settings, demo_sources):
    with unpaused(AirflowApi(settings), ("crawl_ecommerce", "crawl_finance")) as client:
        yield client


def wait_for_backfill_runs(api, start: date, days: int, timeout: float = 120) -> list[dict]:
    import time

    since = datetime(start.year, start.month, start.day, tzinfo=UTC)
    query = (
        f"/dags/crawl_finance/dagRuns?run_type=backfill&logical_date_gte={since.isoformat()}"
        f"&logical_date_lte={(since + timedelta(days=days)).isoformat()}"
    ).replace("+", "%2B")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = api.get(query)["dag_runs"]
        if len(runs) >= days:
            return runs
        time.sleep(2)
    raise AssertionError(f"the backfill created {len(runs)} runs, not {days}")


def test_an_analyst_triggers_a_crawl_and_a_backfill(api, settings):
    # No logical date, as CI jobs and scripts trigger runs (the UI's form fills one in).
    crawl = api.post(
        "/dags/crawl_ecommerce/dagRuns", {"logical_date": None, "conf": {"workers": 2}}
    )
    # Three days no other test crawls: every quote of them comes from this backfill.
    start = date(2026, 1, 1) + timedelta(days=random.randrange(290))
    days = [start + timedelta(days=n) for n in range(3)]
    backfill = api.post(
        "/backfills",
        {
            "dag_id": "crawl_finance",
            "from_date": f"{days[0]}T00:00:00Z",
            "to_date": f"{days[-1]}T23:59:59Z",
            "max_active_runs": 3,
            "reprocess_behavior": "none",
            "run_backwards": False,
            "dag_run_conf": {},
        },
    )
    assert backfill["dag_id"] == "crawl_finance"
    backfill_runs = wait_for_backfill_runs(api, start, 3)
    run_ids = [r["dag_run_id"] for r in backfill_runs]

    states = api.wait_runs("crawl_ecommerce", [crawl["dag_run_id"]])
    assert states == {crawl["dag_run_id"]: "success"}
    assert set(api.wait_runs("crawl_finance", run_ids).values()) == {"success"}

    expected = Catalog(seed=7).expected_public_products(
        datetime.now(UTC).date(), base_url=settings.demo_site_url
    )
    with connect(settings.postgres_reader_url) as conn:
        shop = conn.execute(
            "SELECT status, items_received, items_rejected, started_at, "
            "(stats->>'downloader/response_count')::int FROM crawl_runs "
            "WHERE airflow_run_id = %s",
            (crawl["dag_run_id"],),
        ).fetchone()
        finance = conn.execute(
            "SELECT crawl_id, params->>'date', status FROM crawl_runs "
            "WHERE spider = 'finance' AND airflow_run_id = ANY(%s)",
            (run_ids,),
        ).fetchall()
        # The API does not show which crawl wrote a quote; the database does.
        written = dict(
            conn.execute(
                "SELECT trade_date::text, count(*) FROM quotes WHERE crawl_id = ANY(%s) "
                "GROUP BY trade_date",
                ([crawl_id for crawl_id, _, _ in finance],),
            ).fetchall()
        )
    status, received, rejected, started, pages = shop
    # The crawled rows as an API user reads them: over HTTP from the served API.
    with api_key(settings) as key:
        products = listing(settings, key, "/api/v1/products", source="shop.localhost")
        quotes = listing(
            settings,
            key,
            "/api/v1/quotes",
            date_from=days[0].isoformat(),
            date_to=days[-1].isoformat(),
        )
    seen = {
        p["external_id"] for p in products if datetime.fromisoformat(p["last_seen_at"]) >= started
    }
    served_days = Counter(q["trade_date"] for q in quotes)
    # Every valid product of the shop reached Kafka from this run and is stored (the run's
    # quality step passed, or the run would have failed).
    assert status == "finished" and received == len(expected) and rejected == 0
    assert pages > len(expected)
    assert seen == set(expected)
    assert sorted((day, state) for _, day, state in finance) == [
        (d.isoformat(), "finished") for d in days
    ]
    assert served_days == written == {d.isoformat(): 50 for d in days}
