"""Backups of PostgreSQL and MongoDB that are proven to restore.

A backup set is a directory ``<dest>/<label>/`` holding ``postgres.dump`` (pg_dump, custom
format), ``mongo/<collection>.bson.gz`` per collection and ``manifest.json`` (SHA-256 of each
file, and rows/documents plus a content checksum per table/collection as they were when the
set was written). The ``nightly_backup`` DAG and ``sluice backup`` call these functions:

- :func:`create_backup` writes a set;
- :func:`verify_backup` checks the files, restores the set into scratch databases and compares;
- :func:`restore_backup` restores a set into the live databases;
- :func:`prune_backups` deletes sets older than N days, always keeping the newest.

Every function takes its connections (URLs, a pymongo database or client) as arguments, so
Airflow hooks can supply them; every failure raises :class:`BackupError`.
"""

from sluice.backup.create import create_backup, default_label
from sluice.backup.errors import BackupError
from sluice.backup.manifest import (
    BackupSet,
    ContentStats,
    Manifest,
    check_files,
    compare_stats,
    read_backup,
    read_manifest,
)
from sluice.backup.postgres import table_stats
from sluice.backup.restore import RestoreReport, restore_backup
from sluice.backup.retention import expired, list_backups, prune_backups
from sluice.backup.verify import VerifyReport, verify_backup

__all__ = [
    "BackupError",
    "BackupSet",
    "ContentStats",
    "Manifest",
    "RestoreReport",
    "VerifyReport",
    "check_files",
    "compare_stats",
    "create_backup",
    "default_label",
    "expired",
    "list_backups",
    "prune_backups",
    "read_backup",
    "read_manifest",
    "restore_backup",
    "table_stats",
    "verify_backup",
]
