"""Crawl requests end to end: `sluice crawl request` and ``POST /api/v1/crawl-requests``
publish on ``sluice.events``, Airflow's asset watcher hands each valid one to the
``crawl_requests`` DAG, and a ``crawl_<spider>`` run with the request's start URLs is created.
Anything else is refused where it is sent, or dead-lettered, and starts nothing.

The crawl DAGs stay paused, so the runs asked for are created but never crawl; each test
deletes the run it made.
"""

from __future__ import annotations

import re
import time
import uuid
from urllib.parse import quote

import pytest
import requests
from confluent_kafka import Producer

from api import keys
from sluice.kafka.lag import end_offsets
from sluice.kafka.topics import EVENTS
from sluice.storage.postgres import connect
from tests.support.airflow import AirflowApi, unpaused
from tests.support.processing import dlq_end_offsets, read_dlq

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.kafka]

DAG_ID = "crawl_requests"
CRAWL_DAG = "crawl_ecommerce"


@pytest.fixture(scope="module")
def airflow(platform, settings):
    """The REST API with the crawl_requests DAG switched on."""
    with unpaused(AirflowApi(settings), (DAG_ID,)) as api:
        yield api


@pytest.fixture
def shop(settings) -> str:
    return f"{settings.demo_site_url.rstrip('/')}/shop/"


def requested_run(api: AirflowApi, run_id: str, timeout: float = 120) -> dict:
    """The crawl run ``run_id`` once Airflow made it (deleted again: it never runs)."""
    path = f"/dags/{CRAWL_DAG}/dagRuns/{quote(run_id, safe='')}"
    deadline = time.monotonic() + timeout
    while True:
        try:
            run = api.get(path)
        except AssertionError:  # 404 until the request has been acted on
            assert time.monotonic() < deadline, f"no run {run_id} after {timeout:.0f}s"
            time.sleep(2)
            continue
        api._send("DELETE", f"/api/v2{path}")
        return run


def make_scoped_key(settings, *scopes: str) -> str:
    with connect(settings.postgres_writer_url, autocommit=True) as conn:
        return keys.create(conn, f"test-{uuid.uuid4().hex[:8]}", 10_000, scopes).key


def events_end(settings) -> dict[str, int]:
    return end_offsets(settings.kafka, [EVENTS.name])


def test_a_cli_crawl_request_starts_a_crawl_run_from_its_start_urls(airflow, sluice_cli, shop):
    result = sluice_cli("crawl", "request", "ecommerce", "--start-url", shop, "--max-pages", "3")
    assert result.returncode == 0, result.stderr
    request_id = re.search(r"crawl request (\w+) published", result.stdout)[1]
    run = requested_run(airflow, f"request__{request_id}")
    assert run["conf"] == {"start_urls": [shop], "max_pages": 3}


def test_an_api_crawl_request_with_the_scope_starts_a_crawl_run(airflow, served, settings, shop):
    answer = requests.post(
        f"{served.api_url}/api/v1/crawl-requests",
        json={"spider": "ecommerce", "start_urls": [shop]},
        headers={"X-API-Key": make_scoped_key(settings, "crawl:request")},
        timeout=30,
    )
    assert answer.status_code == 202, answer.text
    run = requested_run(airflow, answer.json()["run_id"])
    assert run["conf"] == {"start_urls": [shop], "max_pages": 0}


@pytest.mark.parametrize(
    ("spider", "scopes", "status", "code"),
    [("ecommerce", (), 403, "forbidden"), ("nope", ("crawl:request",), 400, "invalid_request")],
)
def test_an_api_crawl_request_refused_publishes_nothing(
    served, settings, shop, spider, scopes, status, code
):
    before = events_end(settings)
    answer = requests.post(
        f"{served.api_url}/api/v1/crawl-requests",
        json={"spider": spider, "start_urls": [shop]},
        headers={"X-API-Key": make_scoped_key(settings, *scopes)},
        timeout=30,
    )
    assert (answer.status_code, answer.json()["error"]["code"], events_end(settings)) == (
        status,
        code,
        before,
    )


def test_an_event_that_is_not_json_is_dead_lettered_and_starts_nothing(airflow, settings):
    (asset,) = [a for a in airflow.get("/assets?name_pattern=crawl_requests")["assets"]]
    events = f"/assets/events?asset_id={asset['id']}"
    before = airflow.get(events)["total_entries"]
    starts = dlq_end_offsets(settings)
    value = f"not json {uuid.uuid4().hex}".encode()
    producer = Producer(settings.kafka)
    producer.produce(EVENTS.name, key=b"bad", value=value)
    assert producer.flush(30) == 0
    deadline = time.monotonic() + 120
    while not (dead := [h for v, h in read_dlq(settings, starts, EVENTS.name) if v == value]):
        assert time.monotonic() < deadline, "the bad event was not dead-lettered within 120 s"
    assert (dead[0]["stage"], dead[0]["reason"], airflow.get(events)["total_entries"]) == (
        b"crawl_request",
        b"invalid_json",
        before,
    )
