"""The ``crawl_<spider>`` DAG of a crawl spec."""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import (
    DAG,
    AsyncCallback,
    CronPartitionTimetable,
    DeadlineAlert,
    DeadlineReference,
    Param,
)

from plugins.callbacks import record_missed_deadline
from plugins.factories.defaults import START, crawl_asset, default_args, tags
from plugins.operators.crawl import (
    CRAWL_ID,
    REGISTER_TASK,
    CrawlIdleSensor,
    FinalizeCrawlRunOperator,
    ProcessedSensor,
    RegisterCrawlRunOperator,
    SeedCrawlOperator,
)
from plugins.operators.platform import DataQualityOperator
from sluice.crawl.specs import CrawlSpec


def crawl_params(spec: CrawlSpec) -> dict[str, Param]:
    """The trigger form: validated before a run is created."""
    params = {
        "start_urls": Param(
            [],
            type="array",
            items={"type": "string", "pattern": "^https?://"},
            title="Start URLs",
            description="Empty: the spider's enabled sources (`sluice source list`).",
        ),
        "max_pages": Param(
            0,
            type="integer",
            minimum=0,
            maximum=1_000_000,
            title="Max pages",
            description="Stop after this many pages (0: no limit), counted over every worker.",
        ),
        "expected_pages": Param(
            spec.expected_pages,
            type="integer",
            minimum=1,
            maximum=100_000_000,
            title="Expected pages",
            description="Distinct pages the crawl may make: sizes its duplicate filter in Redis.",
        ),
        "max_failed_share": Param(
            0.05,
            type="number",
            minimum=0,
            maximum=1,
            title="Max failed share",
            description="The quality task fails when more of the crawl's pages than this share "
            "failed after their retries (0.05: 5%).",
        ),
        "workers": Param(
            spec.workers,
            type="integer",
            minimum=1,
            maximum=16,
            title="Workers",
            description="Scrapy worker processes for this crawl.",
        ),
    }
    if spec.dated:
        params["date"] = Param(
            None,
            type=["null", "string"],
            format="date",
            title="Date",
            description="Trading day to crawl (YYYY-MM-DD); empty: the run's partition, else "
            "its logical date.",
        )
    return params


def _hours(span: timedelta) -> str:
    return f"{span / timedelta(hours=1):g} h"


def doc(spec: CrawlSpec) -> str:
    """The DAG's page in the UI."""
    if spec.partitioned:
        backfill = (
            "\n\n**Partitions and backfill**: each run is one day partition (key `YYYY-MM-DD`) "
            f"of the asset `{spec.asset_name}`; the run at 22:00 UTC on a trading day crawls "
            "that day. To fill days, backfill from the UI (or `POST /api/v2/backfills`) over a "
            "date range: one run per trading day in it. Look first with a dry run (the UI's "
            "Backfill form lists the runs, `POST /api/v2/backfills/dry_run`); pick *Missing "
            "runs* to add only the days that have none, *Missing and errored runs* to redo the "
            "failed days as well, *All runs* to re-crawl every day. A range wholly in the "
            "future is refused, and a run for a day still to come fails at once. Downstream, "
            f"`data_quality` and `{spec.export_dag_id}` run for each partition a good run "
            "updates."
        )
    elif spec.dated:
        backfill = (
            "\n\n**Backfill**: a run for date D crawls D's data, so a backfill over a date "
            "range re-crawls those days (to replay stored raw items instead, backfill "
            "`reprocess_raw`)."
        )
    else:
        backfill = (
            "\n\nNot backfilled: a shop shows only what it sells now, so a past run would "
            "crawl today's pages. Trigger a run to crawl again."
        )
    date = (
        "\n- `date`: the trading day to crawl (YYYY-MM-DD); empty: the run's partition, else "
        "its logical date. A run with none of them fails at once."
        if spec.dated
        else ""
    )
    params = (
        "\n\nParams:\n- `start_urls`: where to start; empty: the enabled sources.\n"
        "- `max_pages`: stop after this many pages over every worker (0: no limit).\n"
        "- `expected_pages`: the distinct pages the crawl may make; sizes its duplicate "
        "filter.\n- `max_failed_share`: the quality task fails when a larger share of pages "
        "failed after their retries.\n- `workers`: Scrapy worker processes for the run."
        f"{date}"
    )
    followers = " and ".join(
        f"`{dag_id}`"
        for dag_id in ("data_quality", spec.export_dag_id if spec.partitioned else "")
        if dag_id
    )
    return (
        f"### Crawl `{spec.spider}`\n\n{spec.description}\n\n"
        "Start URLs: the run's `start_urls` param, else those of every enabled source of "
        f"`{spec.spider}` (`sluice source list`; add one with `sluice source add NAME "
        f"--spider {spec.spider} --start-url URL`). A run with neither fails at register.\n\n"
        "register run → seed the Redis queue → wait until the crawl is idle (deferred) → wait "
        "until the processors have stored it (deferred) → data-quality checks of the run "
        "(`dq_results`) → finalize the run in `crawl_runs` (always, recording a failure too) "
        f"and, for a good run, update the day's partition of the asset `{spec.asset_uri}` "
        f"(which schedules {followers} for that day)."
        f"{params}{backfill}\n\n**Deadline**: a run not finished {_hours(spec.deadline)} after it "
        "was "
        "queued is recorded in `deadline_misses`, and the `SluiceRunDeadlineMissed` alert "
        "fires.\n\nPer-run stats: table `crawl_runs` (and the API's "
        "`/api/v1/crawls`); `finalize` writes the run's HTML report and links it in its log."
    )


def deadline_alert(spec: CrawlSpec) -> DeadlineAlert:
    """A run still unfinished ``spec.deadline`` after it was queued is recorded as late."""
    return DeadlineAlert(
        reference=DeadlineReference.DAGRUN_QUEUED_AT,
        interval=spec.deadline,
        callback=AsyncCallback(record_missed_deadline),
        name=f"{spec.dag_id} unfinished {_hours(spec.deadline)} after queued",
    )


#: a day partition's key, as the partitioned assets' downstream DAGs and `date` params read it
DAY_KEY_FORMAT = "%Y-%m-%d"


def schedule(spec: CrawlSpec):
    """The spec's cron; for a partitioned spec, one day partition per scheduled run (the run
    at D 22:00 is the partition D, and a backfill makes one run per scheduled day)."""
    if spec.partitioned and spec.schedule:
        return CronPartitionTimetable(spec.schedule, timezone="UTC", key_format=DAY_KEY_FORMAT)
    return spec.schedule


def build_crawl_dag(spec: CrawlSpec) -> DAG:
    """``crawl_<spider>``: one crawl run per DAG run, recorded in ``crawl_runs``."""
    with DAG(
        dag_id=spec.dag_id,
        description=spec.description,
        doc_md=doc(spec),
        schedule=schedule(spec),
        start_date=START,
        catchup=False,
        max_active_runs=3,
        default_args=default_args(),
        params=crawl_params(spec),
        tags=tags("crawl", spec.spider),
        deadline=deadline_alert(spec),
    ) as dag:
        # Each step gets what it works on from the steps before it as templated arguments
        # (their ``.output``), which also orders the steps.
        register = RegisterCrawlRunOperator(task_id=REGISTER_TASK, spider=spec.spider)
        crawl_id = register.output[CRAWL_ID]
        seed = SeedCrawlOperator(task_id="seed", plan=register.output)
        idle = CrawlIdleSensor(task_id="wait_idle", crawl_id=crawl_id)
        processed = ProcessedSensor(task_id="wait_processed")
        quality = DataQualityOperator(
            task_id="quality",
            crawl_id=crawl_id,
            max_failed_share="{{ params.max_failed_share }}",
        )
        finalize = FinalizeCrawlRunOperator(
            task_id="finalize",
            plan=register.output,
            idle=idle.output,
            processed=processed.output,
            quality_task=quality.task_id,
            outlets=[crawl_asset(spec)],
        )
        register >> seed >> idle >> processed >> quality >> finalize
    return dag
