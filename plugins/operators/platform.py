"""Operators for the platform's housekeeping: quality, migrations, exports, health, DLQ re-drive."""

from __future__ import annotations

import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowException

from plugins.hooks.sluice import SluiceHook
from plugins.operators.asset_events import crawls_named
from plugins.operators.days import previous_complete_day, run_moment

#: XCom key under which the quality step publishes its counts
QUALITY_KEY = "quality"


class DataQualityOperator(BaseOperator):
    """Run the data-quality checks, record them in ``dq_results``, fail on what broke.

    ``crawl_id`` (templated) scopes the checks to one crawl run and compares it with its
    spider's previous run; otherwise ``spiders``/``sources`` (templated: a DAG renders them
    from its params as native lists) scope them. With neither, a run made by crawl assets'
    events (``follow_crawls``) checks the crawl runs those events name, and any other run
    checks everything.
    """

    template_fields = ("crawl_id", "max_failed_share", "spiders", "sources")

    def __init__(
        self,
        *,
        crawl_id: str | None = None,
        spiders: list[str] | None = None,
        sources: list[str] | None = None,
        max_failed_share: float | str | None = None,
        follow_crawls: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.crawl_id = crawl_id
        self.spiders = spiders
        self.sources = sources
        self.max_failed_share = max_failed_share
        self.follow_crawls = follow_crawls

    def crawls_to_check(self, context: dict[str, Any]) -> list[str | None]:
        """The crawl runs to check one by one: ``crawl_id``; else, following crawls with no
        scope given, those the run's triggering events name; else None (the scope params)."""
        if self.crawl_id:
            return [self.crawl_id]
        scoped = _names_or_none(self.spiders) or _names_or_none(self.sources)
        if self.follow_crawls and not scoped:
            named = crawls_named(context.get("triggering_asset_events") or {})
            if named:
                return named
        return [None]

    def failed_pages(self, hook: SluiceHook):
        """The crawl's failed-pages check (None unless a crawl and a share are given)."""
        if not self.crawl_id or self.max_failed_share in (None, "", "None"):
            return None
        from sluice.crawl import registry
        from sluice.crawl.keys import CrawlKeys
        from sluice.crawl.leases import LeasedQueue
        from sluice.quality.rules import failed_pages_share

        server = hook.redis()
        keys = CrawlKeys(self.crawl_id)
        failures = LeasedQueue(server, keys).failures()
        pages = registry.status(server, keys).stats.get("downloader/response_count", 0)
        return failed_pages_share(
            self.crawl_id, len(failures), pages, float(self.max_failed_share), sorted(failures)
        )

    def execute(self, context: dict[str, Any]) -> dict[str, int]:
        from sluice.quality import QualityError, raise_for_failures, record, run_checks, summary

        run_id = self.crawl_id or f"{context['dag'].dag_id}:{context['run_id']}"
        hook = SluiceHook()
        with hook.postgres() as conn:
            conn.autocommit = True
            results = []
            for crawl_id in self.crawls_to_check(context):
                results += run_checks(
                    conn,
                    run_id,
                    crawl_id=crawl_id,
                    spiders=_names_or_none(self.spiders),
                    sources=_names_or_none(self.sources),
                )
            pages_check = self.failed_pages(hook)
            if pages_check is not None:
                results.append(pages_check)
            record(conn, run_id, results)
        failed = [r for r in results if not r.passed]
        self.log.info("data quality of %s:\n%s", run_id, summary(results))
        # Published before failing, so a run's finalize step can record why it failed.
        context["ti"].xcom_push(
            key=QUALITY_KEY, value={"checks": len(results), "failed": len(failed)}
        )
        try:
            raise_for_failures(results)
        except QualityError as exc:
            raise AirflowException(f"{len(failed)} data-quality check(s) failed:\n{exc}") from exc
        return {"checks": len(results), "failed": len(failed)}


class MigrateOperator(BaseOperator):
    """Apply the PostgreSQL migrations of ``sql/`` and create the MongoDB indexes."""

    def execute(self, context: dict[str, Any]) -> dict[str, Any]:
        from sluice.db import migrations
        from sluice.db.mongo_indexes import ensure_indexes

        hook = SluiceHook()
        try:
            report = migrations.migrate(hook.settings())
        except migrations.MigrationError as exc:
            raise AirflowException(f"migrations: {exc} (fix: {exc.fix})") from exc
        created = ensure_indexes(hook.mongo_database())
        self.log.info(
            "migrations: %s applied, %s already applied (schema version %s); mongo indexes "
            "created: %s",
            [m.filename for m in report.applied],
            report.already_applied,
            report.current_version,
            created or "none",
        )
        return {"applied": [m.filename for m in report.applied], "indexes": created}


class ExportDayOperator(BaseOperator):
    """Gzipped CSV per table for the previous complete UTC day (or ``day``, templated; see
    :mod:`plugins.operators.days`), uploaded to ``SLUICE_EXPORT_BUCKET`` under ``<day>/``.
    ``tables`` narrows the export (default: every exportable table)."""

    template_fields = ("day",)

    def __init__(
        self,
        *,
        day: str | None = None,
        dest_dir: str | None = None,
        tables: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.day = day
        self.dest_dir = dest_dir
        self.tables = tables

    def execute(self, context: dict[str, Any]) -> list[dict[str, Any]]:
        from sluice.export import TABLES, export_day
        from sluice.storage.objects import ObjectStore, ObjectStoreError

        hook = SluiceHook()
        settings = hook.settings()
        day: date = previous_complete_day(context, self.day)
        dest = Path(self.dest_dir) if self.dest_dir else settings.export_dir
        with hook.postgres() as conn:
            conn.autocommit = True
            files = export_day(conn, day, dest, self.tables or TABLES)
        store, uris = ObjectStore(settings), {}
        for exported in files:
            key = exported.path.relative_to(dest).as_posix()
            try:
                store.put_file(settings.export_bucket, key, exported.path)
            except ObjectStoreError as exc:
                raise AirflowException(f"export of {exported.table} not uploaded: {exc}") from exc
            uris[exported.table] = f"s3://{settings.export_bucket}/{key}"
            self.log.info("%s: %s rows -> %s", exported.table, exported.rows, uris[exported.table])
        return [
            {
                "table": f.table,
                "path": str(f.path),
                "uri": uris[f.table],
                "rows": f.rows,
                "sha256": f.sha256,
            }
            for f in files
        ]


class PipelineHealthOperator(BaseOperator):
    """Consumer lag, DLQ rate and freshness per spider; fails with the list of problems.

    ``spiders`` and ``sources`` (templated, native lists; default: every one the database
    knows) name what must be fresh; ``spiders`` also narrows the DLQ rate to their crawls.
    The consumer lag is always the processors' own: every source shares them.
    """

    template_fields = ("spiders", "sources")

    def __init__(
        self,
        *,
        spiders: list[str] | str | None = None,
        sources: list[str] | str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.spiders = spiders
        self.sources = sources

    def execute(self, context: dict[str, Any]) -> dict[str, Any]:
        from sluice.health import check_health

        spiders, sources = _names_or_none(self.spiders), _names_or_none(self.sources)
        hook = SluiceHook()
        kafka = hook.kafka_connection()
        with hook.postgres() as conn:
            conn.autocommit = True
            report = check_health(
                conn, kafka, spiders=spiders, sources=sources, dlq_spiders=spiders
            )
        self.log.info("pipeline health:\n%s", report.summary())
        if not report.is_healthy:
            raise AirflowException(f"pipeline unhealthy:\n{report.summary()}")
        return report.to_dict()


class DlqRedriveOperator(BaseOperator):
    """``sluice dlq redrive``: send rejected records back to their topics after a fix."""

    template_fields = ("reason", "since")

    def __init__(
        self, *, reason: str | None = None, since: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.reason = reason
        self.since = since

    def execute(self, context: dict[str, Any]) -> dict[str, Any]:
        from processors.redrive import redrive
        from sluice.kafka.producer import make_producer

        reason, since_text = blank_to_none(self.reason), blank_to_none(self.since)
        since = None
        if since_text:
            try:
                since = datetime.fromisoformat(since_text)
            except ValueError as exc:
                raise AirflowException(f"since={since_text!r} is not an ISO timestamp") from exc
        hook = SluiceHook()
        producer = make_producer(hook.kafka_connection(), **{"client.id": "sluice-airflow-redrive"})
        with hook.postgres() as conn:
            conn.autocommit = True
            result = redrive(conn, producer, reason, since)
        self.log.info("re-drove %s records (reason=%s, since=%s)", result.sent, reason, since)
        return {"sent": result.sent, "ids": result.ids[:1000]}


class BackupOperator(BaseOperator):
    """Back up PostgreSQL (pg_dump, custom format) and MongoDB into a set named by the day."""

    def execute(self, context: dict[str, Any]) -> str:
        from sluice.backup import BackupError, create_backup, runs
        from sluice.backup.remote import upload_backup
        from sluice.storage import postgres
        from sluice.storage.objects import ObjectStore

        hook = SluiceHook()
        settings = hook.settings()
        day = run_moment(context).date()
        try:
            made = create_backup(
                settings.backup_dir,
                postgres_url=settings.postgres_url,
                mongo_db=hook.mongo_database(),
                pg_bindir=settings.pg_bindir,
                label=day.isoformat(),
                overwrite=True,  # a retry replaces the day's set
            )
            # The pod's disk goes with the pod: the set is kept in the object store.
            uri = upload_backup(ObjectStore(settings), settings.backup_bucket, made.path)
        except BackupError as exc:
            raise AirflowException(f"backup failed: {exc}") from exc
        self.log.info("backup set %s (%s bytes) uploaded to %s", made.path, made.size, uri)
        with postgres.connect(settings.postgres_url, autocommit=True) as conn:
            runs.record_created(conn, made.path.name, uri, made.size)
        return uri


class VerifyBackupOperator(BaseOperator):
    """Fetch the uploaded set at ``uri`` (templated: the factory passes the backup step's
    ``.output``), restore it into scratch databases, compare counts and checksums."""

    template_fields = ("uri",)

    def __init__(self, *, uri: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.uri = uri

    def execute(self, context: dict[str, Any]) -> dict[str, Any]:
        from pymongo import MongoClient

        from sluice.backup import BackupError, runs, verify_backup
        from sluice.backup.remote import fetch_backup, parse_uri
        from sluice.storage import postgres
        from sluice.storage.objects import ObjectStore

        uri = self.uri
        hook = SluiceHook()
        settings = hook.settings()
        label = parse_uri(uri)[1]
        with (
            MongoClient(settings.mongo_url, serverSelectionTimeoutMS=120_000) as client,
            tempfile.TemporaryDirectory(prefix="sluice-verify-") as scratch,
        ):
            try:
                # The uploaded copy, not the local one: that is what a restore would read.
                path = fetch_backup(ObjectStore(settings), uri, Path(scratch))
                report = verify_backup(
                    path, postgres_url=settings.postgres_url, mongo_client=client,
                    pg_bindir=settings.pg_bindir,
                )  # fmt: skip
            except BackupError as exc:
                with postgres.connect(settings.postgres_url, autocommit=True) as conn:
                    runs.record_verified(conn, label, ok=False, message=str(exc))
                raise AirflowException(f"backup {uri} does not restore: {exc}") from exc
        with postgres.connect(settings.postgres_url, autocommit=True) as conn:
            runs.record_verified(conn, label, ok=True)
        self.log.info(
            "backup %s restores: %s tables / %s rows, %s collections / %s documents equal",
            uri, report.tables, report.rows, report.collections, report.documents,
        )  # fmt: skip
        return {"uri": uri, "rows": report.rows, "documents": report.documents}


class PruneBackupsOperator(BaseOperator):
    """Remove backup sets older than ``SLUICE_BACKUP_KEEP_DAYS`` (the newest always stays)."""

    def execute(self, context: dict[str, Any]) -> list[str]:
        from sluice.backup import prune_backups
        from sluice.backup.remote import prune_remote_backups
        from sluice.storage.objects import ObjectStore

        settings = SluiceHook().settings()
        removed = [str(p) for p in prune_backups(settings.backup_dir, settings.backup_keep_days)]
        removed += prune_remote_backups(
            ObjectStore(settings), settings.backup_bucket, settings.backup_keep_days
        )
        self.log.info("removed %s old backup set(s): %s", len(removed), removed)
        return removed


class RetentionOperator(BaseOperator):
    """Remove what each store keeps beyond its retention (see :mod:`sluice.retention`);
    ``dry_run`` (templated) only counts it."""

    template_fields = ("dry_run",)

    def __init__(self, *, dry_run: bool | str = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.dry_run = dry_run

    def execute(self, context: dict[str, Any]) -> dict[str, int]:
        from sluice.retention import Stores, prune
        from sluice.storage.objects import ObjectStore

        dry_run = self.dry_run in (True, "True", "true")
        hook = SluiceHook()
        settings = hook.settings()
        with hook.postgres() as conn:
            conn.autocommit = True
            stores = Stores(conn, hook.mongo_database(), ObjectStore(settings))
            pruned = prune(settings, stores, dry_run=dry_run)
        for done in pruned:
            self.log.info("%s", done.describe(dry_run))
        return {done.store: done.removed for done in pruned}


def _names_or_none(value: list[str] | tuple[str, ...] | str | None) -> list[str] | None:
    """A list of names from a param: None (or an absent param rendered as text) is None."""
    # A param left out renders as None, or as "None"/"" where the DAG renders text.
    if value in (None, "", "None"):
        return None
    if isinstance(value, str):
        raise AirflowException(f"expected a list of names, got the text {value!r}")
    return list(value)


def blank_to_none(value: str | None) -> str | None:
    """None for a param left out, which a templated field renders as "None" or ""."""
    return None if value in (None, "", "None") else value
