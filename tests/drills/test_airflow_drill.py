"""Drill 8: the Airflow scheduler and triggerer die (SIGKILL) while a ``crawl_ecommerce`` run
waits, deferred, in ``wait_idle``; the supervisor restarts them and the run still succeeds.

The drill runs on the suite's own platform (only it runs Airflow and the worker pool), kills
both programs' process groups the way a crashed machine would, and leaves the restart to
supervisord. Nothing else is touched: the new triggerer takes the orphaned trigger over once
the dead one's heartbeat has gone stale, and the new scheduler queues the resumed task.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote

import pytest

from demo.catalog import Catalog
from sluice.crawl import registry
from sluice.crawl.keys import CrawlKeys
from sluice.stack.services.airflow import airflow_health
from sluice.stack.services.base import NotReady
from sluice.storage.postgres import connect
from sluice.storage.redis import client as redis_client
from tests.support.airflow import AirflowApi, unpaused
from tests.support.crawling import wait_for
from tests.support.drill_report import DrillReport, DrillRow
from tests.support.drill_stack import Fault, SupervisedStack

pytestmark = [
    pytest.mark.drill,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.kafka,
    pytest.mark.mongo,
]

DAG_ID = "crawl_ecommerce"
WAIT_TASK = "wait_idle"
SCHEDULER = "airflow-scheduler"
TRIGGERER = "airflow-triggerer"
#: the dead triggerer's trigger is taken over once its heartbeat is older than Airflow's
#: triggerer_health_check_threshold (30 s): the deadlines leave room for that on a busy machine
RECOVERY_TIMEOUT = 420.0
RUN_TIMEOUT = 900.0


@dataclass
class Observed:
    """What the drill saw, step by step (None: that step was never reached)."""

    run_id: str | None = None
    crawl_id: str | None = None
    delivered_at_kill: int | None = None
    state_after_kill: str | None = None
    triggerer_job_before: int | None = None
    restarted: dict[str, float] = field(default_factory=dict)
    healthy_after: float | None = None
    resumed_after: float | None = None
    run_state: str | None = None
    run_after: float | None = None
    problem: str = ""


@pytest.fixture
def api(platform, settings, demo_sources) -> Iterator[AirflowApi]:
    """The REST API with ``crawl_ecommerce`` unpaused, its sources being the demo shop's."""
    with unpaused(AirflowApi(settings), (DAG_ID,)) as client:
        yield client


def active_runs(api: AirflowApi) -> list[str]:
    """Ids of the DAG's runs that are queued or running."""
    found = api.get(f"/dags/{DAG_ID}/dagRuns?state=queued&state=running")["dag_runs"]
    return [r["dag_run_id"] for r in found]


def scheduled_run_due(api: AirflowApi) -> bool:
    """True while the scheduler owes the DAG a run it has not created yet."""
    after = api.get(f"/dags/{DAG_ID}").get("next_dagrun_run_after")
    return after is not None and datetime.fromisoformat(after) <= datetime.now(UTC)


def task_instance(api: AirflowApi, run_id: str, task_id: str) -> dict[str, Any]:
    """One task instance of ``run_id`` as the REST API shows it."""
    return api.get(f"/dags/{DAG_ID}/dagRuns/{quote(run_id, safe='')}/taskInstances/{task_id}")


def run_state(api: AirflowApi, run_id: str) -> str:
    """The DAG run's state."""
    return api.get(f"/dags/{DAG_ID}/dagRuns/{quote(run_id, safe='')}")["state"]


def triggerer_job_id(ti: dict[str, Any]) -> int | None:
    """The id of the triggerer job that holds the task's trigger, if one does."""
    job = ti.get("triggerer_job") or {}
    return job.get("id")


def beating_since(airflow_url: str, since: datetime) -> bool:
    """True when the scheduler and the triggerer have both heartbeaten after ``since``.

    The health endpoint stays "healthy" for a while on a dead component's last heartbeat, so
    only a heartbeat newer than the kill shows that a new process is at work.
    """
    try:
        health = airflow_health(airflow_url)
    except NotReady:
        return False
    for key in ("scheduler", "triggerer"):
        beat = health.get(key, {}).get(f"latest_{key}_heartbeat")
        if not beat or datetime.fromisoformat(beat) <= since:
            return False
    return True


def demo_day(settings) -> date:
    """The day the demo sites show (a test may have switched it)."""
    url = f"{settings.demo_site_url.rstrip('/')}/_demo/day"
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - our demo site
        return date.fromisoformat(json.load(response)["day"])


def crawl_id_of(settings, run_id: str) -> str:
    """The crawl the run registered in ``crawl_runs`` (its register_run task has ended)."""
    with connect(settings.postgres_reader_url) as conn:
        row = conn.execute(
            "SELECT crawl_id FROM crawl_runs WHERE airflow_run_id = %s", (run_id,)
        ).fetchone()
    assert row is not None, f"run {run_id} registered no crawl"
    return row[0]


def crash_airflow(api: AirflowApi, settings, observed: Observed) -> float:
    """Trigger the run, kill the scheduler and triggerer while ``wait_idle`` is deferred,
    and watch the platform put itself back together; returns when the fault hit."""
    stack = SupervisedStack(settings.stack_dir)
    # A run left over, or the scheduled run that unpausing makes due, would crawl the shop
    # alongside this one and take over the last_crawl_id of the products this one stores: let
    # the scheduler create what it owes, then let every run end.
    wait_for(lambda: not scheduled_run_due(api), RUN_TIMEOUT, interval=2, what="the due run")
    wait_for(lambda: not active_runs(api), RUN_TIMEOUT, interval=3, what="earlier runs to end")
    run = api.post(
        f"/dags/{DAG_ID}/dagRuns",
        {"logical_date": datetime.now(UTC).isoformat(), "conf": {}},
    )
    observed.run_id = run["dag_run_id"]

    def deferred() -> bool:
        ti = task_instance(api, observed.run_id, WAIT_TASK)
        if ti["state"] in ("success", "failed", "upstream_failed", "skipped"):
            raise AssertionError(f"{WAIT_TASK} ended ({ti['state']}) before it was seen deferred")
        return ti["state"] == "deferred"

    wait_for(deferred, 600, interval=0.5, what=f"{WAIT_TASK} to be deferred")
    observed.crawl_id = crawl_id_of(settings, observed.run_id)
    server = redis_client(settings.redis_url, decode=False)
    keys = CrawlKeys(observed.crawl_id)

    def delivered() -> int:
        return int(registry.status(server, keys).stats.get("kafka/delivered", 0))

    # Hit the crawl mid-way, not before its workers have begun: the crawl then goes on while
    # Airflow is down, and the resumed wait has to find out how it ended.
    wait_for(lambda: delivered() > 0, 600, interval=0.2, what="the crawl's first item")

    killed_at = datetime.now(UTC)
    faults: list[Fault] = [stack.kill(SCHEDULER), stack.kill(TRIGGERER)]
    hit = faults[0].at
    # Both are dead now: nothing can move the task out of `deferred` until they are back, so
    # this look tells whether the fault caught the wait in flight.
    # The triggerer holding the trigger is read now too, as no live triggerer can take the
    # trigger between this look and the restart.
    ti = task_instance(api, observed.run_id, WAIT_TASK)
    observed.state_after_kill = ti["state"]
    observed.triggerer_job_before = triggerer_job_id(ti)
    observed.delivered_at_kill = delivered()

    for fault in faults:
        observed.restarted[fault.program] = stack.wait_restarted(fault, RECOVERY_TIMEOUT)
    wait_for(
        lambda: beating_since(settings.airflow_url, killed_at),
        RECOVERY_TIMEOUT,
        interval=1,
        what="a scheduler and a triggerer heartbeat after the kill",
    )
    observed.healthy_after = time.monotonic() - hit

    def resumed() -> bool:
        now = task_instance(api, observed.run_id, WAIT_TASK)
        if now["state"] != "deferred":
            return True
        # Still waiting, but on a live triggerer: the new one has taken the trigger over.
        job = triggerer_job_id(now)
        return job is not None and job != observed.triggerer_job_before

    wait_for(resumed, RECOVERY_TIMEOUT, interval=1, what=f"{WAIT_TASK} to resume")
    observed.resumed_after = time.monotonic() - hit

    def ended() -> bool:
        observed.run_state = run_state(api, observed.run_id)
        return observed.run_state in ("success", "failed")

    wait_for(ended, RUN_TIMEOUT, interval=3, what="the run to end")
    observed.run_after = time.monotonic() - hit
    return hit


def stored(settings, crawl_id: str | None) -> tuple[int, int, int, set[str]]:
    """items_received and items_rejected of the crawl's run, its DLQ entries, and the
    external ids of the products whose newest observation is this crawl."""
    if crawl_id is None:
        return 0, 0, 0, set()
    with connect(settings.postgres_reader_url) as conn:
        run = conn.execute(
            "SELECT items_received, items_rejected FROM crawl_runs WHERE crawl_id = %s",
            (crawl_id,),
        ).fetchone() or (0, 0)
        dlq = conn.execute(
            "SELECT count(*) FROM rejected_items WHERE crawl_id = %s", (crawl_id,)
        ).fetchone()[0]
        skus = conn.execute(
            "SELECT external_id FROM products WHERE last_crawl_id = %s", (crawl_id,)
        ).fetchall()
    return int(run[0]), int(run[1]), int(dlq), {row[0] for row in skus}


# Past the suite's 600 s per test and past the sum of the drill's own deadlines, so a step
# that never comes fails by its deadline and the drill still records its row.
@pytest.mark.timeout(4800)
def test_scheduler_and_triggerer_killed_while_wait_idle_is_deferred(
    api, settings, drill_report: DrillReport
):
    observed = Observed()
    try:
        crash_airflow(api, settings, observed)
    except AssertionError as exc:
        observed.problem = str(exc)

    received, rejected, dlq, skus = stored(settings, observed.crawl_id)
    catalog = Catalog(seed=7)
    expected = set(catalog.expected_public_products(demo_day(settings), settings.demo_site_url))
    # Each public product of the shop is one item; more deliveries than that are repeats.
    duplicates = max(0, received - len(expected))
    losses = max(0, received - duplicates - rejected - len(skus))
    checks = {
        "deferred when killed": observed.state_after_kill == "deferred",
        "scheduler restarted by the supervisor": SCHEDULER in observed.restarted,
        "triggerer restarted by the supervisor": TRIGGERER in observed.restarted,
        "wait_idle resumed": observed.resumed_after is not None,
        "run succeeded": observed.run_state == "success",
        "every product scraped": received >= len(expected),
        "every product stored": skus == expected,
        "no losses": losses == 0,
        "no duplicates": duplicates == 0,
    }
    passed = all(checks.values())
    restarts = ", ".join(f"{p} back after {s:.1f} s" for p, s in observed.restarted.items())
    timings = [
        f"{label} {value:.1f} s after the kill"
        for label, value in (
            ("both heartbeating", observed.healthy_after),
            ("wait_idle resumed", observed.resumed_after),
            (f"run {observed.run_state}", observed.run_after),
        )
        if value is not None
    ]
    detail = (
        f"SIGKILL to the process groups of {SCHEDULER} and {TRIGGERER} while run "
        f"{observed.run_id} waited in {WAIT_TASK} ({observed.state_after_kill} right after the "
        f"kill, its trigger held by triggerer job {observed.triggerer_job_before}); "
        f"{restarts or 'no restart seen'}; {'; '.join(timings) or 'nothing recovered'}. "
        "Recovery counts until both heartbeat again and the new triggerer holds the trigger "
        "(or the task has left `deferred`)."
        + (f" Problem: {observed.problem}" if observed.problem else "")
    )
    row = drill_report.record(
        DrillRow(
            name="airflow-scheduler-and-triggerer-kill",
            fault=f"SIGKILL {SCHEDULER} + {TRIGGERER}",
            hit_at=(
                f"{observed.delivered_at_kill:,} of {len(expected):,} items scraped, "
                f"{WAIT_TASK} deferred"
                if observed.delivered_at_kill is not None
                else "never hit"
            ),
            items_in=received,
            rows_out=len(skus),
            duplicates=duplicates,
            losses=losses,
            dlq_entries=dlq,
            recovery_seconds=observed.resumed_after if observed.run_state == "success" else None,
            passed=passed,
            detail=detail,
            checks=checks,
        )
    )
    assert row.passed, detail + f" Checks: {checks}"
