"""How long Sluice keeps what piles up, and pruning what is older.

Five stores grow with every crawl; each keeps its data for a number of days (0: forever):

| store | setting | age of an entry |
|---|---|---|
| ``raw_items`` (MongoDB) | ``SLUICE_RETAIN_RAW_ITEMS_DAYS`` (90) | when it was archived |
| ``rejected_items`` | ``SLUICE_RETAIN_REJECTED_ITEMS_DAYS`` (90) | when it was rejected |
| ``dq_results`` | ``SLUICE_RETAIN_DQ_RESULTS_DAYS`` (180) | when the check ran |
| reports (``<stack>/reports``) | ``SLUICE_RETAIN_REPORTS_DAYS`` (90) | its file's mtime |
| exports (export dir and bucket) | ``SLUICE_RETAIN_EXPORTS_DAYS`` (365) | the day exported |

The ``retention`` DAG prunes them every day; ``sluice retention [--dry-run]`` does it by hand;
``sluice status`` shows the policy. MongoDB itself also expires ``raw_items`` through a TTL
index on ``received_at`` where the server has TTL indexes (FerretDB 1.x has none: there the DAG
alone enforces it, on a plain index of the same field).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg
from psycopg import sql
from pymongo.database import Database
from pymongo.errors import OperationFailure

from sluice.settings import Settings

RAW_ITEMS, REJECTED_ITEMS, DQ_RESULTS, REPORTS, EXPORTS = (
    "raw_items",
    "rejected_items",
    "dq_results",
    "reports",
    "exports",
)
#: every store, in the order a run prunes them (the object store, which may be away, last)
STORES = (RAW_ITEMS, REJECTED_ITEMS, DQ_RESULTS, REPORTS, EXPORTS)
#: what each store holds and by which time an entry ages
DESCRIPTIONS = {
    RAW_ITEMS: "archived envelopes (MongoDB raw_items, by received_at)",
    REJECTED_ITEMS: "rejected records (rejected_items, by rejected_at)",
    DQ_RESULTS: "data-quality results (dq_results, by checked_at)",
    REPORTS: "crawl reports (<stack dir>/reports, by modification time)",
    EXPORTS: "daily exports (export dir and export bucket, by the day exported)",
}
#: the columns PostgreSQL stores age by
AGE_COLUMNS = {REJECTED_ITEMS: "rejected_at", DQ_RESULTS: "checked_at"}
TTL_INDEX = "received_at_ttl"
PLAIN_INDEX = "received_at"
#: MongoDB's code for a feature the server does not implement (FerretDB 1.x: TTL indexes)
NOT_IMPLEMENTED = 238
BATCH = 10_000


def days_of(settings: Settings) -> dict[str, int]:
    """Each store's retention in days (0: kept forever)."""
    return {store: getattr(settings, f"retain_{store}_days") for store in STORES}


def describe_policy(settings: Settings) -> list[str]:
    """One line per store: what it holds and how long it is kept."""
    return [
        f"{store}: {_kept(days)} — {DESCRIPTIONS[store]}"
        for store, days in days_of(settings).items()
    ]


def _kept(days: int) -> str:
    return "kept forever" if days == 0 else f"{days} days"


@dataclass(frozen=True)
class Pruned:
    """What one store's pruning removed (or, in a dry run, would remove)."""

    store: str
    days: int
    cutoff: datetime | None
    removed: int
    #: anything else done (raw_items: how MongoDB itself expires them)
    note: str = ""

    def describe(self, dry_run: bool = False) -> str:
        """E.g. ``raw_items: 120 removed (older than 90 days, before 2026-09-08 04:30 UTC)``."""
        note = f"; {self.note}" if self.note else ""
        if self.cutoff is None:
            return f"{self.store}: kept forever{note}"
        verb = "would remove" if dry_run else "removed"
        when = self.cutoff.strftime("%Y-%m-%d %H:%M UTC")
        return (
            f"{self.store}: {verb} {self.removed} (older than {self.days} days, before {when})"
            f"{note}"
        )


@dataclass
class Stores:
    """Where the data to prune lives: a PostgreSQL connection (autocommit), the MongoDB
    database, and (for the exports' bucket) an object store, or None to leave the bucket."""

    postgres: psycopg.Connection
    mongo: Database
    objects: object | None = None


def prune(
    settings: Settings,
    stores: Stores,
    *,
    now: datetime | None = None,
    dry_run: bool = False,
) -> list[Pruned]:
    """Remove what each store holds beyond its retention (count it only, ``dry_run``)."""
    now = now or datetime.now(UTC)
    pruners: dict[str, Callable[[datetime], int]] = {
        RAW_ITEMS: lambda cutoff: _prune_raw_items(stores.mongo, cutoff, dry_run),
        REJECTED_ITEMS: lambda cutoff: _prune_table(
            stores.postgres, REJECTED_ITEMS, cutoff, dry_run
        ),
        DQ_RESULTS: lambda cutoff: _prune_table(stores.postgres, DQ_RESULTS, cutoff, dry_run),
        REPORTS: lambda cutoff: _prune_reports(settings.stack_dir / "reports", cutoff, dry_run),
        EXPORTS: lambda cutoff: _prune_exports(settings, stores.objects, cutoff.date(), dry_run),
    }
    done = []
    for store, days in days_of(settings).items():
        note = ""
        if store == RAW_ITEMS and not dry_run:
            note = ensure_raw_items_expiry(stores.mongo, days)
        cutoff = now - timedelta(days=days) if days else None
        removed = pruners[store](cutoff) if cutoff is not None else 0
        done.append(Pruned(store, days, cutoff, removed, note))
    return done


def ensure_raw_items_expiry(db: Database, days: int) -> str:
    """Make MongoDB expire ``raw_items`` after ``days`` through a TTL index on
    ``received_at`` (none for 0); on a server without TTL indexes, a plain index of the field
    serves the retention run's deletes. Says which it is."""
    collection = db[RAW_ITEMS]
    existing = {index["name"]: index for index in collection.list_indexes()}
    seconds = days * 86400
    if not days:
        if TTL_INDEX in existing:
            collection.drop_index(TTL_INDEX)
        return "no TTL index (kept forever)"
    ttl = existing.get(TTL_INDEX)
    if ttl is not None and ttl.get("expireAfterSeconds") != seconds:
        db.command("collMod", RAW_ITEMS, index={"name": TTL_INDEX, "expireAfterSeconds": seconds})
        return f"TTL index {TTL_INDEX} changed to {days} days"
    if ttl is not None:
        return f"TTL index {TTL_INDEX} ({days} days)"
    try:
        collection.create_index([("received_at", 1)], name=TTL_INDEX, expireAfterSeconds=seconds)
    except OperationFailure as exc:
        if exc.code != NOT_IMPLEMENTED:
            raise
        if PLAIN_INDEX not in existing:
            collection.create_index([("received_at", 1)], name=PLAIN_INDEX)
        return "no TTL indexes on this server: the retention run alone removes old raw_items"
    return f"TTL index {TTL_INDEX} created ({days} days)"


def _prune_raw_items(db: Database, cutoff: datetime, dry_run: bool) -> int:
    old = {"received_at": {"$lt": cutoff}}
    if dry_run:
        return db[RAW_ITEMS].count_documents(old)
    return db[RAW_ITEMS].delete_many(old).deleted_count


def _prune_table(conn: psycopg.Connection, table: str, cutoff: datetime, dry_run: bool) -> int:
    """Rows of ``table`` older than ``cutoff``, deleted a batch per transaction so that no
    delete holds locks for long."""
    column = sql.Identifier(AGE_COLUMNS[table])
    name = sql.Identifier(table)
    if dry_run:
        query = sql.SQL("SELECT count(*) FROM {} WHERE {} < %s").format(name, column)
        return conn.execute(query, (cutoff,)).fetchone()[0]
    delete = sql.SQL(
        "DELETE FROM {t} WHERE id IN (SELECT id FROM {t} WHERE {c} < %s ORDER BY id LIMIT %s)"
    ).format(t=name, c=column)
    removed = 0
    while True:
        with conn.transaction():
            count = conn.execute(delete, (cutoff, BATCH)).rowcount
        removed += count
        if count < BATCH:
            return removed


def _prune_reports(folder: Path, cutoff: datetime, dry_run: bool) -> int:
    old = [
        path
        for path in (folder.glob("*.html") if folder.is_dir() else ())
        if datetime.fromtimestamp(path.stat().st_mtime, UTC) < cutoff
    ]
    if not dry_run:
        for path in old:
            path.unlink(missing_ok=True)
    return len(old)


def _before(name: str, day: date) -> bool:
    """Whether ``name`` is a day folder (YYYY-MM-DD) of a day before ``day``."""
    try:
        return date.fromisoformat(name) < day
    except ValueError:
        return False


def _prune_exports(settings: Settings, objects, before: date, dry_run: bool) -> int:
    """Day folders ``<YYYY-MM-DD>/`` before ``before``: in the export dir, and in the export
    bucket when ``objects`` is given; counts files and objects."""
    folder = settings.export_dir
    local = (
        [p for p in folder.iterdir() if p.is_dir() and _before(p.name, before)]
        if folder.is_dir()
        else []
    )
    removed = sum(1 for day in local for p in day.rglob("*") if p.is_file())
    if not dry_run:
        for day in local:
            shutil.rmtree(day)
    bucket = settings.export_bucket
    if objects is None or bucket not in objects.bucket_names():
        return removed
    keys = [item.key for item in objects.objects(bucket) if _before(item.key.split("/")[0], before)]
    if not dry_run:
        objects.delete(bucket, keys)
    return removed + len(keys)
