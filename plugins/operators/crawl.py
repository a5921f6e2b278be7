"""The steps of a crawl run: register → seed → wait idle → wait processed → finalize."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from plugins.hooks.sluice import SluiceHook
from plugins.operators.asset_events import record_crawl
from plugins.operators.platform import QUALITY_KEY
from plugins.triggers.crawl import CrawlIdleTrigger, ProcessedTrigger
from sluice.crawl.specs import crawl_spec

REGISTER_TASK = "register_run"
#: XCom key under which the register step also publishes the crawl id alone
CRAWL_ID = "crawl_id"


def crawl_id_for(spider: str, run_id: str, logical: str) -> str:
    """One crawl id per DAG run, the same on every retry: ``<spider>-<date>-<hash of run>``."""
    digest = hashlib.sha256(run_id.encode()).hexdigest()[:8]
    return f"{spider}-{logical}-{digest}"


def run_plan(
    spider: str,
    params: dict[str, Any],
    context: dict[str, Any],
    registered: Callable[[], list[str]],
) -> dict:
    """What a run crawls: start URLs, date, workers, limit.

    The start URLs are the run's ``start_urls`` param when an analyst gave some, else
    ``registered()``: the spider's enabled sources, asked only when needed.
    """
    spec = crawl_spec(spider)
    crawl_params: dict[str, Any] = {}
    interval_start = context.get("data_interval_start") or context.get("logical_date")
    # The date first: it is the run's own mistake, and checking it needs no database.
    if spec.dated:
        crawl_params["date"] = run_day(spec, params, context, interval_start).isoformat()
    given = [u for u in (params.get("start_urls") or []) if u]
    start_urls = given or registered()
    if params.get("max_pages"):
        crawl_params["max_pages"] = int(params["max_pages"])
    if params.get("expected_pages"):
        crawl_params["expected_pages"] = int(params["expected_pages"])
    stamped = interval_start or context["dag_run"].run_after
    day = crawl_params["date"] if spec.dated else stamped.date().isoformat()
    return {
        "crawl_id": crawl_id_for(spider, context["run_id"], day.replace("-", "")),
        "spider": spider,
        # The day partition of the spider's asset a good run updates: a dated run's day, else
        # the day the run was scheduled for (or made).
        "day": day,
        # Whole: the registered sources, no page limit; a product such a run does not see
        # counts as absent (sluice.crawl.absences).
        "whole": not given and not params.get("max_pages"),
        "start_urls": start_urls,
        "params": crawl_params,
        "workers": int(params.get("workers") or spec.workers),
        "max_pages": int(params.get("max_pages") or 0),
    }


def run_day(spec, params: dict[str, Any], context: dict[str, Any], interval_start) -> date:
    """The day a dated run crawls: its ``date`` param, else its partition (a partitioned DAG's
    runs, backfills included, have a partition key and no logical date), else its logical
    date. A run with none, or for a day still to come, fails at once: no retry would help."""
    named = params.get("date") or context.get("partition_key")
    if not named and interval_start is None:
        raise AirflowFailException(
            f"{spec.dag_id} needs a date: set the `date` param (YYYY-MM-DD), or trigger the run "
            "for a partition (day) or with a logical date"
        )
    try:
        day = date.fromisoformat(named) if named else interval_start.date()
    except ValueError as exc:
        raise AirflowFailException(
            f"{spec.dag_id}: {named!r} is not a day (YYYY-MM-DD): {exc}"
        ) from exc
    today = datetime.now(UTC).date()
    if day > today:
        raise AirflowFailException(
            f"{spec.dag_id}: {day} is still to come (today is {today} UTC): a crawl can only "
            "fetch a day that has begun"
        )
    return day


class RegisterCrawlRunOperator(BaseOperator):
    """Decide what this run crawls and record it in ``crawl_runs`` with the Airflow run id.

    A run without ``start_urls`` of its own crawls the spider's enabled sources (the
    ``sources`` table); with none registered, it fails at once with what to do.
    """

    def __init__(self, *, spider: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.spider = spider

    def execute(self, context: dict[str, Any]) -> dict[str, Any]:
        from sluice import sources
        from sluice.crawl import runs

        with SluiceHook().postgres() as conn:
            try:
                plan = run_plan(
                    self.spider,
                    context["params"],
                    context,
                    lambda: sources.start_urls_for(conn, self.spider),
                )
            except sources.SourceError as exc:
                # Retries cannot help until someone registers a source: fail now, saying how.
                raise AirflowFailException(str(exc)) from exc
            runs.register(
                conn,
                plan["crawl_id"],
                self.spider,
                context["run_id"],
                {**plan["params"], "start_urls": plan["start_urls"], "workers": plan["workers"]},
            )
        self.log.info("crawl run %s registered: %s", plan["crawl_id"], plan)
        # The crawl id on its own, for steps that need only it (``register.output[CRAWL_ID]``).
        context["ti"].xcom_push(key=CRAWL_ID, value=plan["crawl_id"])
        return plan


class SeedCrawlOperator(BaseOperator):
    """Queue the start requests in Redis and hand the crawl to the worker pool.

    ``plan`` (templated): what the run crawls, as the register step returned it (the factory
    passes ``register.output``).
    """

    template_fields = ("plan",)

    def __init__(self, *, plan: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.plan = plan

    def execute(self, context: dict[str, Any]) -> int:
        from sluice.crawl import registry, runner
        from sluice.crawl.keys import CrawlKeys

        plan = self.plan
        hook = SluiceHook()
        settings = hook.settings()
        server = hook.redis()
        if server.exists(CrawlKeys(plan["crawl_id"]).meta):
            # A retry of this task: the crawl exists, only make sure the pool has it.
            self.log.info("crawl %s already seeded", plan["crawl_id"])
            queued = 0
        else:
            seeded = runner.seed_crawl(
                settings, plan["spider"], plan["start_urls"], plan["params"], plan["crawl_id"]
            )
            queued = seeded.queued
        registry.dispatch(server, plan["crawl_id"], plan["workers"])
        self.log.info(
            "crawl %s: %s start requests queued for %s workers",
            plan["crawl_id"],
            queued,
            plan["workers"],
        )
        return queued


class CrawlIdleSensor(BaseOperator):
    """Defers until the crawl ``crawl_id`` (templated) has nothing queued or in flight (a
    trigger watches Redis)."""

    template_fields = ("crawl_id",)

    def __init__(self, *, crawl_id: Any, poll_interval: float = 5.0, **kwargs: Any) -> None:
        kwargs.setdefault("execution_timeout", timedelta(hours=12))
        super().__init__(**kwargs)
        self.crawl_id = crawl_id
        self.poll_interval = poll_interval

    def execute(self, context: dict[str, Any]) -> None:
        self.defer(
            trigger=CrawlIdleTrigger(self.crawl_id, poll_interval=self.poll_interval),
            method_name="execute_complete",
        )

    def execute_complete(self, context: dict[str, Any], event: dict[str, Any]) -> dict:
        """Back from the trigger: fail on a failed or orphaned crawl, else report where it
        stopped."""
        if event["state"] in ("failed", "orphaned"):
            raise AirflowException(f"crawl {event['crawl_id']}: {event['message']}")
        stats = event["stats"]
        self.log.info(
            "crawl %s %s: %s pages, %s items",
            event["crawl_id"],
            "reached its page limit" if event["state"] == "page_limit" else "is idle",
            stats.get("downloader/response_count", 0),
            stats.get("kafka/delivered", 0),
        )
        return {"state": event["state"]}


class ProcessedSensor(BaseOperator):
    """Defers until the processors have committed every message the crawl produced."""

    def __init__(
        self,
        *,
        groups: tuple[str, ...] = ("sluice.archiver", "sluice.normalizer"),
        poll_interval: float = 5.0,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("execution_timeout", timedelta(hours=2))
        super().__init__(**kwargs)
        self.groups = list(groups)
        self.poll_interval = poll_interval

    def execute(self, context: dict[str, Any]) -> None:
        from sluice.kafka.lag import end_offsets
        from sluice.kafka.topics import RAW_PRODUCTS, RAW_QUOTES

        # The crawl is idle and its items were acknowledged by Kafka before its leases were:
        # today's end offsets are past every message of the run.
        marks = end_offsets(SluiceHook().kafka_connection(), [RAW_PRODUCTS.name, RAW_QUOTES.name])
        self.defer(
            trigger=ProcessedTrigger(marks, self.groups, poll_interval=self.poll_interval),
            method_name="execute_complete",
        )

    def execute_complete(self, context: dict[str, Any], event: dict[str, Any]) -> dict:
        """Back from the trigger: the processors are past the crawl."""
        self.log.info("processors are past %s", event["marks"])
        return event["marks"]


class FinalizeCrawlRunOperator(BaseOperator):
    """Close the run in ``crawl_runs`` with its stats and outcome, whatever happened before.

    Runs once every step before it has ended (trigger rule ``all_done``): a crawl that never
    went idle, was not stored in time or failed its quality checks is recorded as failed, and
    this task fails too, so the run's Asset is only updated by a good run. A crawl with pages
    that failed after their retries (fewer than the quality task tolerates) is recorded as
    partial.
    """

    template_fields = ("plan", "idle", "processed")

    def __init__(
        self,
        *,
        plan: Any,
        idle: Any,
        processed: Any,
        quality_task: str,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("trigger_rule", "all_done")
        super().__init__(**kwargs)
        #: the register, wait-idle and wait-processed steps' results (templated; the factory
        #: passes each step's ``.output``): None for a step that did not succeed
        self.plan = plan
        self.idle = idle
        self.processed = processed
        self.quality_task = quality_task

    def problems(self, ti, stats: dict[str, int]) -> list[str]:
        """Why this run failed, from its steps' results and its crawl stats (empty: it did not)."""
        problems = []
        if self.idle is None:
            problems.append("the crawl did not finish (see its wait-idle step)")
        elif self.processed is None:
            problems.append("the processors did not store the crawl (see its wait-processed step)")
        # Published by the quality step even when it fails, which its return value is not.
        quality = ti.xcom_pull(task_ids=self.quality_task, key=QUALITY_KEY)
        if quality is None and not problems:
            problems.append(f"no data-quality result (see task {self.quality_task})")
        elif quality and quality["failed"]:
            problems.append(f"{quality['failed']} data-quality check(s) failed")
        if stats.get("kafka/delivery_failed") or stats.get("kafka/undelivered"):
            problems.append("some items could not be delivered to Kafka")
        pages = stats.get("downloader/response_count", 0)
        if not pages:
            problems.append("no page was fetched")
        elif not stats.get("kafka/delivered"):
            problems.append(f"no item was scraped from {pages} pages (see the worker logs)")
        return problems

    def execute(self, context: dict[str, Any]) -> dict[str, Any]:
        from sluice.crawl import registry, runs
        from sluice.crawl.absences import count_absences
        from sluice.crawl.keys import CrawlKeys
        from sluice.crawl.leases import LeasedQueue
        from sluice.storage import versions

        ti = context["ti"]
        plan = self.plan
        if plan is None:
            # Nothing was crawled, so there is nothing to conclude: a retry would find no plan
            # either.
            raise AirflowFailException("the run was never registered (see task register_run)")
        hook = SluiceHook()
        settings = hook.settings()
        server = hook.redis()
        keys = CrawlKeys(plan["crawl_id"])
        status = registry.status(server, keys)
        problems = self.problems(ti, status.stats)
        left = registry.purge_queue(server, keys) if plan["max_pages"] or problems else 0
        registry.conclude(server, plan["crawl_id"], retain_seconds=settings.crawl_key_ttl)
        stats = {**status.stats, "queue/purged": left}
        failed_pages = len(LeasedQueue(server, keys).failures())
        outcome = "failed" if problems else ("partial" if failed_pages else "finished")
        gone: list[int] = []
        with hook.postgres() as conn:
            row = runs.finalize(conn, plan["crawl_id"], outcome, stats)
            if outcome == "finished" and plan.get("whole"):
                gone = count_absences(conn, plan["crawl_id"], settings.discontinue_after_crawls)
        if gone:
            # Committed: the API's cached pages of products must not show them as they were.
            versions.bump(server, ["products"])
            self.log.info("%d products no crawl has seen lately are discontinued", len(gone))
        self.log.info(
            "crawl run %s %s: %s pages, %s items received, %s stored, %s rejected",
            row["crawl_id"],
            row["status"],
            stats.get("downloader/response_count", 0),
            row["items_received"],
            row["items_stored"],
            row["items_rejected"],
        )
        self.write_report(settings, plan["crawl_id"])
        if problems:
            raise AirflowException(f"crawl {plan['crawl_id']}: {'; '.join(problems)}")
        # Every good run updates its day's partition of the Asset (a partition run's key
        # already; the `date` of a crawl request; the day an undated crawl ran), so the DAGs
        # that follow the partitions run for it, and the event names the crawl that they check.
        for asset in self.outlets:
            record_crawl(context["outlet_events"][asset], plan["day"], plan["crawl_id"])
        return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}

    def write_report(self, settings, crawl_id: str) -> None:
        """Write the run's HTML report and link it from this task's log.

        A report that cannot be written does not fail the run it describes: the log says why
        and gives the command that writes it later.
        """
        import psycopg

        from sluice.report import report_hint
        from sluice.report.data import ReportError, load_report, reader
        from sluice.report.files import default_path, write_page
        from sluice.report.html import render

        path, again = default_path(settings, crawl_id), report_hint(crawl_id)
        try:
            with reader(settings.postgres_reader_url) as conn:
                found = load_report(conn, crawl_id)
            write_page(path, render(found, generated_at=datetime.now(UTC)))
        except (psycopg.Error, ReportError, OSError) as exc:
            self.log.warning("no report written (%s); write it with: %s", exc, again)
            return
        self.log.info("report of this run: file://%s (rewrite it: %s)", path, again)
