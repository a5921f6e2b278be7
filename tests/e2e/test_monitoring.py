"""An operator's view of a demo crawl: after a crawl_ecommerce run, the local Prometheus holds
the key series of every component with values that agree with the crawl."""

from __future__ import annotations

import json
import urllib.request
from datetime import UTC, datetime
from urllib.parse import quote

import pytest

from sluice.report.files import default_path
from sluice.storage.postgres import connect
from tests.support.airflow import AirflowApi, unpaused
from tests.support.prometheus import PrometheusApi

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.kafka, pytest.mark.mongo]

JOBS = {"api", "archiver", "normalizer", "workers", "exporter", "webhooks", "airflow", "postgres",
        "redis", "prometheus"}  # fmt: skip
#: samples this recent come from the components running now: Prometheus keeps its data across
#: restarts, and an instant query would otherwise also return a series' last sample from the
#: processes of an earlier `sluice up` (for five minutes), a counter far above the new one
RECENT = "20s"


def recent_sum(selector: str) -> str:
    """The sum of the series' samples from the last RECENT only."""
    return f"sum(last_over_time({selector}[{RECENT}]))"


SCRAPED = recent_sum('sluice_spider_items_scraped_total{spider="ecommerce"}')
CONSUMED = recent_sum(
    'sluice_processor_consumed_total{group="normalizer",topic="sluice.raw.products"}'
)
WRITTEN = recent_sum('sluice_processor_written_total{group="normalizer"}')
OK_RESPONSES = recent_sum('sluice_spider_requests_total{spider="ecommerce",status="200"}')


@pytest.fixture
def prometheus(monitoring, settings) -> PrometheusApi:
    client = PrometheusApi(settings)
    client.wait(f"count(last_over_time(up[{RECENT}]) == 1)", lambda v: v == len(JOBS), timeout=60)
    return client


def test_a_demo_crawl_shows_up_in_prometheus(prometheus, settings, demo_sources):
    before = {q: prometheus.scalar(q) or 0.0 for q in (SCRAPED, CONSUMED, WRITTEN, OK_RESPONSES)}
    started = datetime.now(UTC)
    with unpaused(AirflowApi(settings), ("crawl_ecommerce",)) as airflow:
        run = airflow.post(
            "/dags/crawl_ecommerce/dagRuns",
            {"logical_date": started.isoformat(), "conf": {"workers": 2}},
        )
        states = airflow.wait_runs("crawl_ecommerce", [run["dag_run_id"]])
    assert states == {run["dag_run_id"]: "success"}
    # The finalize task wrote the run's report and linked it from its log.
    with connect(settings.postgres_reader_url) as conn:
        (crawl_id,) = conn.execute(
            "SELECT crawl_id FROM crawl_runs WHERE airflow_run_id = %s", (run["dag_run_id"],)
        ).fetchone()
    report = default_path(settings, crawl_id)
    assert crawl_id in report.read_text(encoding="utf-8")
    log = airflow.get(
        f"/dags/crawl_ecommerce/dagRuns/{quote(run['dag_run_id'], safe='')}"
        "/taskInstances/finalize/logs/1"
    )
    assert f"report of this run: file://{report}" in json.dumps(log)

    # Every component is scraped and up, under its documented job name.
    up = prometheus.query("up")
    assert {dict(labels)["job"] for labels in up} == JOBS
    assert all(value == 1 for value in up.values()), up

    # The demo shop has 545 valid products: the spider counted at least that many items and
    # pages, and the normalizer consumed and stored at least as many (a scheduled run started
    # by unpausing may add more). Each series is compared with its own value before the run:
    # one component's counter read before another's was first scraped must not make a
    # difference between them (that nothing was lost, crawl_runs shows: received == stored).
    prometheus.wait(SCRAPED, lambda v: (v or 0) - before[SCRAPED] >= 545)
    prometheus.wait(OK_RESPONSES, lambda v: (v or 0) - before[OK_RESPONSES] >= 545)
    prometheus.wait(CONSUMED, lambda v: (v or 0) - before[CONSUMED] >= 545)
    prometheus.wait(WRITTEN, lambda v: (v or 0) - before[WRITTEN] >= 545)
    # Caught up: the crawl's run only succeeds once both groups have processed it.
    prometheus.wait('max(sluice_processor_consumer_lag{group="normalizer"})', lambda v: v == 0)
    prometheus.wait("sum(sluice_processor_batch_duration_seconds_count)", lambda v: (v or 0) > 0)

    # The state exporter saw the run finish; Airflow's StatsD came through statsd_exporter.
    prometheus.wait(
        'sluice_crawl_last_finished_timestamp_seconds{spider="ecommerce"}',
        lambda v: v is not None and v >= started.timestamp() - 1,
    )
    prometheus.wait(
        'sluice_crawl_last_items_stored{spider="ecommerce"}', lambda v: v is not None and v > 0
    )
    prometheus.wait(
        'sum(airflow_dagrun_duration_seconds_count{dag_id="crawl_ecommerce",status="success"})',
        lambda v: (v or 0) >= 1,
    )
    prometheus.wait("sum(rate(airflow_scheduler_heartbeat_total[1m]))", lambda v: (v or 0) > 0)

    # The API counts its requests by route; the stores answer their exporters.
    with urllib.request.urlopen(f"{settings.api_url}/healthz", timeout=5):  # noqa: S310
        pass
    prometheus.wait(
        'sum(sluice_api_requests_total{route="/healthz",status="200"})', lambda v: (v or 0) >= 1
    )
    assert prometheus.scalar("pg_up") == 1
    assert prometheus.scalar("redis_up") == 1

    # Nothing pages: no service-down or lag alert is firing.
    firing = {
        a["labels"]["alertname"]
        for a in prometheus.get("/alerts")["alerts"]
        if a["state"] == "firing"
    }
    assert not firing & {"SluiceServiceDown", "SluiceConsumerLagHigh", "SluicePostgresDown",
                         "SluiceRedisDown", "SluiceAirflowSchedulerStalled"}, firing  # fmt: skip
