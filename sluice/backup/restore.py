"""Restore a backup set into the live databases."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

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
class RestoreReport:
    """What a restore put back."""

    path: Path
    tables: int
    rows: int
    collections: int
    documents: int


def restore_backup(
    set_dir: Path,
    *,
    postgres_url: str,
    mongo_db: Database,
    pg_bindir: Path | None = None,
    check: bool = True,
) -> RestoreReport:
    """Replace the contents of the live databases with the backup set in ``set_dir``.

    The files' SHA-256 are checked first; nothing is touched if one differs. PostgreSQL:
    ``pg_restore --clean --if-exists`` as the owner role of ``postgres_url``, in one
    transaction (a failure leaves the database as it was). MongoDB: each collection of the set
    is loaded into a temporary collection first, and only when PostgreSQL has been restored
    does it replace the live one. Objects that are not in the set (tables or collections
    created after it) are left alone.

    Stop the writers first. With ``check`` the restored tables and collections are compared
    with the manifest afterwards, which fails if anything wrote in between.
    """
    backup = read_backup(set_dir)
    manifest = backup.manifest
    check_files(set_dir, manifest)
    with mongo.loaded_collections(mongo_db) as pending:
        for name, entry in sorted(manifest.mongo.collections.items()):
            loaded = mongo.temporary_name(name)
            pending[name] = loaded
            with step(f"mongo: loading {name} into {mongo_db.name}.{loaded}"):
                mongo.load_collection(
                    mongo_db,
                    loaded,
                    set_dir / relative_name(entry.file),
                    indexes=entry.indexes,
                    options=entry.options,
                )
        postgres.restore(
            postgres_url,
            set_dir / relative_name(manifest.postgres.dump),
            pg_bindir=pg_bindir,
            clean=True,
        )
        log.info("postgres restored path=%s database=%s", set_dir, manifest.postgres.database)
        for name in sorted(pending):
            with step(
                f"mongo: replacing {mongo_db.name}.{name} by {pending[name]} "
                "(PostgreSQL is restored already)"
            ):
                mongo.replace_collection(mongo_db, name, pending[name])
            del pending[name]
    if check:
        _check(backup, postgres_url, mongo_db)
    report = RestoreReport(path=set_dir, **manifest.totals())
    log.info("backup restored path=%s tables=%d", set_dir, report.tables)
    return report


def _check(backup: BackupSet, postgres_url: str, mongo_db: Database) -> None:
    manifest = backup.manifest
    tables = postgres.restored_table_stats(postgres_url)
    collections: dict[str, ContentStats] = {}
    for name in manifest.mongo.collections:
        with step(f"mongo: reading the restored {mongo_db.name}.{name}"):
            collections[name] = mongo.collection_stats(mongo_db[name])
    problems = compare_stats(
        manifest.postgres.tables, tables, kind="table", unit="rows", ignore_extra=True
    ) + compare_stats(
        manifest.mongo.collections_stats(),
        collections,
        kind="collection",
        unit="documents",
        ignore_extra=True,
    )
    if problems:
        raise BackupError(
            f"restored {backup.path}, but the databases now differ from it:\n  "
            + "\n  ".join(problems),
            fix="stop every writer (processors, DAGs) and restore again",
        )
