"""Prove a backup set restores: check its files, restore it into scratch databases, compare."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from pymongo import MongoClient
from pymongo.database import Database

from sluice.backup import mongo, postgres
from sluice.backup.errors import BackupError, step
from sluice.backup.manifest import (
    BackupSet,
    ContentStats,
    check_files,
    compare_stats,
    read_backup,
    relative_name,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class VerifyReport:
    """What a successful verification checked, and where it restored to."""

    path: Path
    tables: int
    rows: int
    collections: int
    documents: int
    scratch_postgres: str
    scratch_mongo: str
    seconds: float


def verify_backup(
    set_dir: Path,
    *,
    postgres_url: str,
    mongo_client: MongoClient,
    pg_bindir: Path | None = None,
    jobs: int = 1,
) -> VerifyReport:
    """Check the files' SHA-256, restore the set into scratch databases, compare with the manifest.

    ``postgres_url`` is the owner role's URL: the scratch database is created (from
    ``template0``) and dropped by that role on the same server; the scratch MongoDB database
    lives on ``mongo_client``'s server. Both are dropped afterwards, also when something
    fails. ``jobs`` > 1 runs pg_restore in parallel.

    Raises :class:`BackupError` naming the altered files, the failing restore command with its
    error output, or every table and collection whose count or checksum differs.
    """
    started = time.monotonic()
    backup = read_backup(set_dir)
    manifest = backup.manifest
    check_files(set_dir, manifest)
    with postgres.scratch_database(postgres_url, manifest.postgres.database) as scratch_url:
        pg_problems = _restore_postgres(backup, scratch_url, pg_bindir, jobs)
        scratch_pg = postgres.database_name(scratch_url)
    with mongo.scratch_database(mongo_client, manifest.mongo.database) as scratch_db:
        mongo_problems = _restore_mongo(backup, scratch_db)
        scratch_mongo = scratch_db.name
    problems = pg_problems + mongo_problems
    if problems:
        raise BackupError(
            f"backup set {set_dir} does not restore to what was backed up:\n  "
            + "\n  ".join(problems),
            fix="do not rely on this set; look for a concurrent writer or a damaged dump",
        )
    report = VerifyReport(
        path=set_dir,
        **manifest.totals(),
        scratch_postgres=scratch_pg,
        scratch_mongo=scratch_mongo,
        seconds=time.monotonic() - started,
    )
    log.info(
        "backup verified path=%s tables=%d collections=%d seconds=%.1f",
        set_dir,
        report.tables,
        report.collections,
        report.seconds,
    )
    return report


def _restore_postgres(
    backup: BackupSet, scratch_url: str, pg_bindir: Path | None, jobs: int
) -> list[str]:
    manifest = backup.manifest
    dump = backup.path / relative_name(manifest.postgres.dump)
    postgres.restore(scratch_url, dump, pg_bindir=pg_bindir, jobs=jobs)
    actual = postgres.restored_table_stats(scratch_url)
    return compare_stats(manifest.postgres.tables, actual, kind="table", unit="rows")


def _restore_mongo(backup: BackupSet, scratch_db: Database) -> list[str]:
    manifest = backup.manifest
    actual: dict[str, ContentStats] = {}
    problems = []
    for name, entry in sorted(manifest.mongo.collections.items()):
        with step(f"mongo: restoring {name} into {scratch_db.name}"):
            mongo.load_collection(
                scratch_db,
                name,
                backup.path / relative_name(entry.file),
                indexes=entry.indexes,
                options=entry.options,
            )
            actual[name] = mongo.collection_stats(scratch_db[name])
            restored = {spec["name"] for spec in mongo.index_specs(scratch_db[name])}
        missing = sorted({spec["name"] for spec in entry.indexes} - restored)
        if missing:
            problems.append(f"collection {name}: indexes missing after restore: {missing}")
    return problems + compare_stats(
        manifest.mongo.collections_stats(), actual, kind="collection", unit="documents"
    )
