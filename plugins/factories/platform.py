"""The platform's housekeeping DAGs: quality, migrations, exports, health, DLQ re-drive."""

from __future__ import annotations

from datetime import timedelta

from airflow.providers.standard.operators.hitl import ApprovalOperator
from airflow.sdk import DAG, Asset, Param, PartitionedAssetTimetable, XComArg

from plugins.factories.defaults import START, crawl_asset, default_args, tags
from plugins.operators.platform import (
    BackupOperator,
    DataQualityOperator,
    DlqRedriveOperator,
    ExportDayOperator,
    MigrateOperator,
    PipelineHealthOperator,
    PruneBackupsOperator,
    RetentionOperator,
    VerifyBackupOperator,
)
from plugins.operators.reprocess import PLAN, PlanReprocessOperator, ReprocessRawOperator
from sluice.crawl.specs import CRAWLS, CrawlSpec


def data_quality_dag() -> DAG:
    """``data_quality``: the checks of each day partition a crawl updates, and on demand."""
    with DAG(
        dag_id="data_quality",
        description="Data-quality checks of each crawled day partition; results in dq_results.",
        doc_md=(
            "### Data quality\n\nRuns for each day partition a good crawl run updates (every "
            "crawl's asset is partitioned by day: a dated crawl's day, else the day the crawl "
            "ran; the run's partition key is that day), and checks the crawl run that updated "
            "it: row counts against the spider's previous run, null rates, prices > 0, ISO "
            "currencies, duplicates and freshness. Every result goes to `dq_results` (run id "
            "`data_quality:<run id>`). A failed check fails the task, and its log and error "
            "list what broke.\n\nTriggered by hand it checks everything stored; params "
            "`sources` and `spiders` (lists; empty: everything) narrow it to some sites.\n\n"
            "Backfill the crawl DAG, not this one: it follows each partition the backfill "
            "crawls."
        ),
        schedule=PartitionedAssetTimetable(assets=_any([crawl_asset(s) for s in CRAWLS])),
        start_date=START,
        catchup=False,
        params=_scope_params("Check only the rows of"),
        # The scope params render as the lists they are, not as their text.
        render_template_as_native_obj=True,
        default_args=default_args(retries=1),
        tags=tags("quality"),
    ) as dag:
        DataQualityOperator(
            task_id="checks",
            sources="{{ params.sources }}",
            spiders="{{ params.spiders }}",
            follow_crawls=True,
        )
    return dag


def _scope_params(what: str) -> dict[str, Param]:
    """The ``sources`` and ``spiders`` params that narrow a DAG's checks (None: everything)."""
    names = {"type": "string", "minLength": 1}
    return {
        "sources": Param(
            None,
            type=["null", "array"],
            items=names,
            title="Sources",
            description=f"{what} these sources (e.g. shop.localhost); empty: every source.",
        ),
        "spiders": Param(
            None,
            type=["null", "array"],
            items=names,
            title="Spiders",
            description=f"{what} these spiders' crawls; empty: every spider.",
        ),
    }


def _any(assets: list[Asset]):
    """Any one of ``assets`` (a single asset is itself)."""
    condition = assets[0]
    for asset in assets[1:]:
        condition = condition | asset
    return condition


def _day_param(description: str) -> Param:
    """An optional ``day`` (YYYY-MM-DD, UTC); left empty, a daily DAG works on the previous
    complete day (see :mod:`plugins.operators.days`)."""
    return Param(
        None,
        type=["null", "string"],
        format="date",
        title="Day (UTC)",
        description=f"{description} (YYYY-MM-DD). Empty: the previous complete day.",
    )


def db_migrate_dag() -> DAG:
    """``db_migrate``: the PostgreSQL migrations and MongoDB indexes, on demand or from CI."""
    with DAG(
        dag_id="db_migrate",
        description="Apply sql/ migrations and create the MongoDB indexes (idempotent).",
        doc_md=(
            "### Database migrations\n\nManual (or triggered by CI after a deploy). Applies "
            "the pending `sql/` migrations as the owner role, one runner at a time, refusing "
            "an edited applied migration; then creates missing MongoDB indexes. No params.\n\n"
            "Not backfilled: a run applies whatever is pending, whatever its date."
        ),
        schedule=None,
        start_date=START,
        catchup=False,
        max_active_runs=1,
        default_args=default_args(retries=1),
        tags=tags("maintenance"),
    ) as dag:
        MigrateOperator(task_id="migrate")
    return dag


def export_daily_dag() -> DAG:
    """``export_daily``: gzipped CSV per table for each day, backfillable."""
    with DAG(
        dag_id="export_daily",
        description="Gzipped CSV per table for the day (products, prices, quotes, crawl runs).",
        doc_md=(
            "### Daily export\n\nThe run at 01:30 UTC on day D exports the previous complete "
            "day, D-1 (00:00 to 23:59:59 UTC): `<SLUICE_EXPORT_DIR>/<day>/<table>.csv.gz` for "
            "products, product_prices, quotes and crawl_runs, uploaded to the export bucket. "
            "A run triggered without a logical date exports yesterday; the `day` param names "
            "another day. A rerun replaces the day's files; backfill to export past days (the "
            "run of D exports D-1)."
        ),
        schedule="30 1 * * *",
        start_date=START,
        catchup=False,
        params={"day": _day_param("Export this day instead of the previous one")},
        default_args=default_args(),
        tags=tags("export"),
    ) as dag:
        ExportDayOperator(task_id="export", day="{{ params.day }}")
    return dag


def partition_export_dag(spec: CrawlSpec) -> DAG:
    """``export_<asset>``: the day of each partition a good ``spec`` run updates, exported."""
    with DAG(
        dag_id=spec.export_dag_id,
        description=f"Gzipped CSV of one day of {spec.asset_name}, per partition crawled.",
        doc_md=(
            f"### Export of `{spec.asset_name}` per day partition\n\nRuns for each day "
            f"partition of the asset `{spec.asset_name}` that a good `{spec.dag_id}` run "
            "updates (its schedule, a backfill of it, or a crawl request with a `date`), and "
            f"writes that day's `<SLUICE_EXPORT_DIR>/<day>/{spec.asset_name}.csv.gz`, uploaded "
            "to the export bucket (the same file `export_daily` writes the night after, so a "
            f"day is there as soon as it is crawled).\n\nBackfill `{spec.dag_id}` to fill "
            "days; this DAG follows. Triggered by hand, it exports the `day` param's day, else "
            "the run's partition, else yesterday."
        ),
        schedule=PartitionedAssetTimetable(assets=crawl_asset(spec)),
        start_date=START,
        catchup=False,
        params={"day": _day_param("Export this day instead of the run's partition")},
        default_args=default_args(),
        tags=tags("export", spec.spider),
    ) as dag:
        ExportDayOperator(
            task_id="export",
            day="{{ params.day or partition_key }}",
            tables=[spec.asset_name],
        )
    return dag


def retention_dag() -> DAG:
    """``retention``: every store pruned to its retention, daily."""
    with DAG(
        dag_id="retention",
        description="Remove what each store keeps beyond its retention (SLUICE_RETAIN_*_DAYS).",
        doc_md=(
            "### Retention\n\nEvery day at 04:30 UTC, removes what is older than its store's "
            "retention: archived envelopes (`raw_items`, 90 days), rejected records "
            "(`rejected_items`, 90), data-quality results (`dq_results`, 180), crawl reports "
            "(90) and daily exports, local and in the export bucket (365). Each is set by "
            "`SLUICE_RETAIN_<STORE>_DAYS` (0 keeps forever); `sluice status` shows them. On a "
            "MongoDB with TTL indexes, `raw_items` also expire by themselves.\n\nParam "
            "`dry_run`: only count what would go (the task log lists it per store).\n\n"
            "Not backfilled: a run prunes by today's ages, whatever its date."
        ),
        schedule="30 4 * * *",
        start_date=START,
        catchup=False,
        max_active_runs=1,
        params={
            "dry_run": Param(
                False,
                type="boolean",
                title="Dry run",
                description="Only count what would be removed.",
            )
        },
        default_args=default_args(),
        tags=tags("maintenance"),
    ) as dag:
        RetentionOperator(task_id="prune", dry_run="{{ params.dry_run }}")
    return dag


def pipeline_health_dag() -> DAG:
    """``pipeline_health``: consumer lag, DLQ rate and freshness, every 10 minutes."""
    with DAG(
        dag_id="pipeline_health",
        description="Consumer lag, DLQ rate and freshness per spider, every 10 minutes.",
        doc_md=(
            "### Pipeline health\n\nEvery 10 minutes: the processors' consumer lag, the share "
            "of records dead-lettered in the last hour, and how long ago each spider last "
            "finished a run. Fails, listing the problems, when a threshold is crossed.\n\n"
            "Params `spiders` and `sources` (lists; empty: everything) narrow a manual run: "
            "freshness of just those, and the dead-letter rate of those spiders' crawls.\n\n"
            "Not backfilled: it judges the pipeline as it is now."
        ),
        schedule=timedelta(minutes=10),
        start_date=START,
        catchup=False,
        max_active_runs=1,
        dagrun_timeout=timedelta(minutes=9),
        params=_scope_params("Judge only"),
        # The scope params render as the lists they are, not as their text.
        render_template_as_native_obj=True,
        default_args=default_args(retries=1, retry_delay=timedelta(seconds=20)),
        tags=tags("monitoring"),
    ) as dag:
        PipelineHealthOperator(
            task_id="check", sources="{{ params.sources }}", spiders="{{ params.spiders }}"
        )
    return dag


def dlq_redrive_dag() -> DAG:
    """``dlq_redrive``: `sluice dlq redrive` with a reason and a since, from the UI."""
    with DAG(
        dag_id="dlq_redrive",
        description="Send rejected records back through the processors after a fix.",
        doc_md=(
            "### DLQ re-drive\n\nAfter fixing what made records fail (a schema, a parser), "
            "send the matching `rejected_items` back to their original topics. Each record "
            "is re-driven once. Params: `reason` (exact or prefix, e.g. `invalid_item`) and "
            "`since` (ISO timestamp, UTC).\n\nNot backfilled: trigger it by hand with the "
            "reason of the records to send back."
        ),
        schedule=None,
        start_date=START,
        catchup=False,
        max_active_runs=1,
        params={
            "reason": Param(
                None, type=["null", "string"], title="Reason", description="Exact or prefix."
            ),
            "since": Param(
                None,
                type=["null", "string"],
                format="date-time",
                title="Since",
                description="Only records rejected at or after this time (UTC).",
            ),
        },
        default_args=default_args(retries=1),
        tags=tags("maintenance", "dlq"),
    ) as dag:
        DlqRedriveOperator(
            task_id="redrive", reason="{{ params.reason }}", since="{{ params.since }}"
        )
    return dag


def nightly_backup_dag() -> DAG:
    """``nightly_backup``: back up, prove the backup restores, then prune old sets."""
    with DAG(
        dag_id="nightly_backup",
        description="pg_dump + MongoDB dump with a sha256 manifest, restore-checked, kept N days.",
        doc_md=(
            "### Nightly backup\n\n`backup` writes `<SLUICE_BACKUP_DIR>/<day>/`: a `pg_dump` "
            "(custom format), a gzipped BSON dump per MongoDB collection and a manifest with "
            "sha256 hashes, counts and checksums. `verify` restores it into scratch databases "
            "and compares everything: a backup that cannot be restored fails here. `prune` then "
            "removes sets older than `SLUICE_BACKUP_KEEP_DAYS`.\n\nRestore by hand with "
            "`sluice backup restore <set> --yes`. No params.\n\nNot backfilled: a backup "
            "holds the data as it is when it runs, whatever the run's date."
        ),
        schedule="0 2 * * *",
        start_date=START,
        catchup=False,
        max_active_runs=1,
        default_args=default_args(retries=2),
        tags=tags("maintenance", "backup"),
    ) as dag:
        backup = BackupOperator(task_id="backup", execution_timeout=timedelta(hours=2))
        verify = VerifyBackupOperator(
            task_id="verify", uri=backup.output, execution_timeout=timedelta(hours=2)
        )
        prune = PruneBackupsOperator(task_id="prune")
        backup >> verify >> prune
    return dag


def reprocess_raw_dag() -> DAG:
    """``reprocess_raw``: rebuild days' processed rows from the raw archive; backfillable. A run
    over many days or raw items waits for an approval first."""
    with DAG(
        dag_id="reprocess_raw",
        description="Rebuild processed rows for a day from MongoDB raw items (no re-crawl).",
        doc_md=(
            "### Reprocess raw items\n\nThe run at 03:00 UTC on day D replays the raw envelopes "
            "fetched on the previous complete day, D-1 (UTC; the `day` param names another, "
            "`until` extends it to a range), from MongoDB `raw_items` through the normalizer's "
            "validation and writes. Idempotent: a rerun changes no row. **Backfill this DAG** "
            "over a date range to rebuild stored data after a fix; backfill `crawl_finance` "
            "instead to fetch those days again from the source. Backfill runs have a low "
            "priority weight, so scheduled runs of other DAGs go first when slots are short."
            "\n\n**Approval**: `plan` counts the days and raw items a run would replay. Over "
            "`SLUICE_APPROVAL_MAX_DAYS` days (7) or `SLUICE_APPROVAL_MAX_ROWS` raw items "
            "(100,000), the run waits in `approve` (Required Actions) until someone approves "
            "it; rejected, nothing is replayed. A range that is reversed or reaches a day not "
            "yet complete fails in `plan`, before anything is written.\n\nParams: `day` "
            "(YYYY-MM-DD, UTC; empty: the previous complete day), `until` (YYYY-MM-DD; replay "
            "through this day too; empty: `day` alone), `source` and `schema` (only the raw "
            "items of that source or schema; empty: all), `mode` (`replay`, the only mode)."
        ),
        schedule="0 3 * * *",
        start_date=START,
        catchup=False,
        max_active_runs=2,
        params={
            "mode": Param(
                "replay",
                enum=["replay"],
                title="Mode",
                description="replay: rebuild from stored raw items. To re-crawl a date range, "
                "backfill crawl_finance instead.",
            ),
            "day": _day_param("Replay the raw items fetched on this day instead"),
            "until": Param(
                None,
                type=["null", "string"],
                format="date",
                title="Until (UTC)",
                description="Replay every day from `day` through this one (YYYY-MM-DD). "
                "Empty: `day` alone.",
            ),
            "source": Param(None, type=["null", "string"], title="Only this source"),
            "schema": Param(None, type=["null", "string"], title="Only this schema"),
        },
        default_args=default_args(priority_weight=1),
        tags=tags("maintenance", "backfill"),
    ) as dag:
        plan = PlanReprocessOperator(
            task_id="plan",
            approve_task="approve",
            replay_task="reprocess",
            day="{{ params.day }}",
            until="{{ params.until }}",
            source="{{ params.source }}",
            schema="{{ params.schema }}",
        )
        approve = ApprovalOperator(
            task_id="approve",
            subject="Replay {{ ti.xcom_pull(task_ids='plan', key='plan')['days'] }} day(s) "
            "of raw items into the processed tables?",
            body=(
                "{% set p = ti.xcom_pull(task_ids='plan', key='plan') %}"
                "Days **{{ p['first'] }}** to **{{ p['last'] }}**, "
                "{{ '{:,}'.format(p['raw_items']) }} raw items "
                "(source: {{ p['source'] or 'all' }}, schema: {{ p['schema'] or 'all' }}).\n\n"
                "Needs an approval because: {{ p['approval'] | join('; ') }}.\n\n"
                "Approve to rewrite their rows; reject to replay nothing."
            ),
            response_timeout=timedelta(days=2),
        )
        replay = ReprocessRawOperator(
            task_id="reprocess",
            plan=XComArg(plan, key=PLAN),
            # After an approval, or straight from the plan when none was needed.
            trigger_rule="none_failed_min_one_success",
            execution_timeout=timedelta(hours=6),
        )
        plan >> [approve, replay]
        approve >> replay
    return dag
