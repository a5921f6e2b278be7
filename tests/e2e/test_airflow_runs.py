"""An analyst's path through the running Airflow's REST API: trigger a crawl of the demo shop,
then find exactly that data: the run's record in PostgreSQL, the crawled rows through the
served API. (Backfills of crawl_finance's day partitions: test_partition_backfill.py.)"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from demo.catalog import Catalog
from sluice.storage.postgres import connect
from tests.support.airflow import AirflowApi, unpaused
from tests.support.served_api import api_key, listing

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.kafka, pytest.mark.mongo]


@pytest.fixture
def api(platform, settings, demo_sources):
    with unpaused(AirflowApi(settings), ("crawl_ecommerce",)) as client:
        yield client


def test_an_analyst_triggers_a_crawl_and_finds_its_rows(api, settings):
    # No logical date, as CI jobs and scripts trigger runs (the UI's form fills one in).
    crawl = api.post(
        "/dags/crawl_ecommerce/dagRuns", {"logical_date": None, "conf": {"workers": 2}}
    )
    states = api.wait_runs("crawl_ecommerce", [crawl["dag_run_id"]])
    assert states == {crawl["dag_run_id"]: "success"}

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
    status, received, rejected, started, pages = shop
    # The crawled rows as an API user reads them: over HTTP from the served API.
    with api_key(settings) as key:
        products = listing(settings, key, "/api/v1/products", source="shop.localhost")
    seen = {
        p["external_id"] for p in products if datetime.fromisoformat(p["last_seen_at"]) >= started
    }
    # Every valid product of the shop reached Kafka from this run and is stored (the run's
    # quality step passed, or the run would have failed).
    assert status == "finished" and received == len(expected) and rejected == 0
    assert pages > len(expected)
    assert seen == set(expected)
