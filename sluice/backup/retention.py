"""Which backup sets there are, and deleting those older than the retention period."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sluice.backup.errors import BackupError
from sluice.backup.manifest import MANIFEST_NAME, BackupSet, read_backup

log = logging.getLogger(__name__)


def list_backups(dest: Path) -> list[BackupSet]:
    """The backup sets directly under ``dest``, oldest first (by the manifest's created_at).

    Directories without a readable manifest are not sets and are skipped (with a warning when
    they have a manifest that cannot be read), so prune never deletes what it cannot date.
    """
    if not dest.is_dir():
        return []
    sets = []
    for child in sorted(dest.iterdir()):
        if not child.is_dir() or child.name.startswith("."):
            continue
        if not (child / MANIFEST_NAME).is_file():
            continue
        try:
            sets.append(read_backup(child))
        except BackupError as exc:
            log.warning("not a usable backup set, skipped path=%s error=%s", child, exc)
    return sorted(sets, key=lambda s: (s.created_at, s.label))


def expired(sets: Sequence[BackupSet], keep_days: int, now: datetime) -> list[BackupSet]:
    """The sets created more than ``keep_days`` days before ``now``, except the newest set.

    The newest set is always kept, however old: a nightly job that stopped running must not
    end up with no backup at all.
    """
    if keep_days < 0:
        raise BackupError(f"keep_days must not be negative (got {keep_days})")
    if now.tzinfo is None:
        raise BackupError("now must carry a time zone")
    cutoff = now - timedelta(days=keep_days)
    ordered = sorted(sets, key=lambda s: (s.created_at, s.label))
    return [s for s in ordered[:-1] if s.created_at < cutoff]


def stale_work_dirs(dest: Path, keep_days: int, now: datetime) -> list[Path]:
    """Work directories of interrupted backups (``.<label>.partial-*``) older than the period."""
    if not dest.is_dir():
        return []
    cutoff = (now - timedelta(days=keep_days)).timestamp()
    return sorted(
        child
        for child in dest.iterdir()
        if child.is_dir()
        and child.name.startswith(".")
        and (".partial-" in child.name or ".replaced-" in child.name)
        and child.stat().st_mtime < cutoff
    )


def prune_backups(
    dest: Path, keep_days: int, *, now: datetime | None = None, dry_run: bool = False
) -> list[Path]:
    """Delete the sets under ``dest`` older than ``keep_days`` days (never the newest one).

    Leftovers of interrupted backups older than the period go too. Returns the directories
    removed (with ``dry_run``: those that would be), oldest first.
    """
    now = now or datetime.now(UTC)
    doomed = [s.path for s in expired(list_backups(dest), keep_days, now)]
    doomed += stale_work_dirs(dest, keep_days, now)
    for path in doomed:
        if dry_run:
            continue
        try:
            shutil.rmtree(path)
        except OSError as exc:
            raise BackupError(f"cannot delete backup set {path}: {exc}") from exc
        log.info("backup set deleted path=%s", path)
    return doomed
