"""The crawl DAGs' deadline, run by the real scheduler and triggerer: a run gets a deadline
when it is queued, and a missed one is recorded in ``deadline_misses`` and exported as gauges.

The run under test is queued for tomorrow, so none of its tasks start and nothing but the
deadline is exercised. Its deadline is then moved to a second ago in Airflow's ``deadline``
table: the short deadline, without waiting hours or parsing a DAG made for the test.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest

from sluice.crawl.specs import crawl_spec
from sluice.monitoring.state import StateCollector
from sluice.storage.postgres import connect
from tests.support.airflow import AirflowApi
from tests.support.crawling import wait_for

pytestmark = pytest.mark.postgres

DAG_ID = "crawl_ecommerce"


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture
def queued_run(platform, settings):
    """A run of the crawl DAG queued until tomorrow; deleted afterwards with its miss rows."""
    client = AirflowApi(settings)
    client.wait_for_dag(DAG_ID)
    run_id = f"deadline-{uuid.uuid4().hex[:8]}"
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    run = client.post(
        f"/dags/{DAG_ID}/dagRuns",
        {"dag_run_id": run_id, "logical_date": None, "run_after": tomorrow.isoformat()},
    )
    yield client, run
    client._send("DELETE", f"/api/v2/dags/{DAG_ID}/dagRuns/{quote(run_id, safe='')}")
    with connect(settings.postgres_writer_url, autocommit=True) as conn:
        conn.execute("DELETE FROM deadline_misses WHERE run_id = %s", (run_id,))


def deadlines(client: AirflowApi, run_id: str) -> list[dict]:
    return client._send("GET", f"/ui/dags/{DAG_ID}/dagRuns/{quote(run_id, safe='')}/deadlines")[
        "deadlines"
    ]


def test_a_queued_crawl_run_gets_the_specs_deadline(queued_run):
    client, run = queued_run
    (deadline,) = deadlines(client, run["dag_run_id"])
    expected = moment(run["queued_at"]) + crawl_spec("ecommerce").deadline
    assert (moment(deadline["deadline_time"]), deadline["missed"]) == (expected, False)


def test_a_missed_deadline_is_recorded_and_exported(queued_run, settings):
    client, run = queued_run
    run_id = run["dag_run_id"]
    (deadline,) = deadlines(client, run_id)
    with connect(settings.airflow_db_url, autocommit=True) as conn:
        due = conn.execute(
            "UPDATE deadline SET deadline_time = date_trunc('second', now()) - interval '1 s' "
            "WHERE id = %s RETURNING deadline_time",
            (deadline["id"],),
        ).fetchone()[0]

    def recorded():
        with connect(settings.postgres_reader_url) as conn:
            return conn.execute(
                "SELECT deadline_at, queued_at FROM deadline_misses "
                "WHERE dag_id = %s AND run_id = %s",
                (DAG_ID, run_id),
            ).fetchall()

    wait_for(recorded, 120, what="the deadline callback to record the miss")
    assert recorded() == [(due, moment(run["queued_at"]))]
    gauges = {
        (s.name, s.labels.get("dag_id")): s.value
        for family in StateCollector(lambda: connect(settings.postgres_reader_url)).collect()
        for s in family.samples
    }
    newest = gauges[("sluice_dag_deadline_last_missed_timestamp_seconds", DAG_ID)]
    assert (newest, gauges[("sluice_dag_deadline_misses", DAG_ID)] >= 1) == (
        due.timestamp(),
        True,
    )
