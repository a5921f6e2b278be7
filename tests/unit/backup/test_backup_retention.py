"""Retention: which sets are older than N days, and pruning them (never the newest)."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from sluice.backup.errors import BackupError
from sluice.backup.retention import expired, list_backups, prune_backups
from sluice.cli.backup import backup
from sluice.settings import Settings
from tests.unit.backup.fake_sets import make_set

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


def nightly_sets(dest, days_ago):
    """One set per entry of ``days_ago``, created at 02:00 UTC that many days before NOW."""
    for days in days_ago:
        created = datetime(2026, 11, 23, 2, 0, tzinfo=UTC) - timedelta(days=days)
        make_set(dest / created.strftime("%Y-%m-%d"), created_at=created)


def test_sets_are_listed_oldest_first_by_their_manifest(tmp_path):
    nightly_sets(tmp_path, [0, 2, 1])
    (tmp_path / "notes").mkdir()  # a directory without manifest is not a set

    labels = [s.label for s in list_backups(tmp_path)]

    assert labels == ["2026-11-21", "2026-11-22", "2026-11-23"]


def test_a_missing_destination_has_no_sets(tmp_path):
    assert list_backups(tmp_path / "absent") == []


def test_sets_older_than_the_period_expire(tmp_path):
    nightly_sets(tmp_path, range(10))

    old = expired(list_backups(tmp_path), keep_days=7, now=NOW)

    # NOW is 03:00 on the 23rd: the 02:00 set of the 16th is 7 days and an hour old.
    assert [s.label for s in old] == ["2026-11-14", "2026-11-15", "2026-11-16"]


def test_the_newest_set_is_kept_however_old(tmp_path):
    nightly_sets(tmp_path, [30, 31, 40])

    old = expired(list_backups(tmp_path), keep_days=7, now=NOW)

    assert [s.label for s in old] == ["2026-10-14", "2026-10-23"]


def test_prune_deletes_the_expired_sets_and_says_which(tmp_path):
    nightly_sets(tmp_path, [0, 1, 8, 9])

    removed = prune_backups(tmp_path, 7, now=NOW)

    assert [p.name for p in removed] == ["2026-11-14", "2026-11-15"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2026-11-22", "2026-11-23"]


def test_a_dry_run_deletes_nothing(tmp_path):
    nightly_sets(tmp_path, [0, 9])

    removed = prune_backups(tmp_path, 7, now=NOW, dry_run=True)

    assert [p.name for p in removed] == ["2026-11-14"]
    assert (tmp_path / "2026-11-14").is_dir()


def test_a_set_whose_manifest_cannot_be_read_is_never_deleted(tmp_path):
    nightly_sets(tmp_path, [0, 9])
    (tmp_path / "2026-11-14" / "manifest.json").write_text("{broken")

    assert prune_backups(tmp_path, 7, now=NOW) == []
    assert (tmp_path / "2026-11-14").is_dir()


def test_leftovers_of_interrupted_backups_go_once_old(tmp_path):
    nightly_sets(tmp_path, [0])
    stale = tmp_path / ".2026-11-10.partial-0a1b2c3d"
    fresh = tmp_path / ".2026-11-23.partial-4e5f6a7b"
    for work in (stale, fresh):
        work.mkdir()
    old = (NOW - timedelta(days=13)).timestamp()
    os.utime(stale, (old, old))

    removed = prune_backups(tmp_path, 7, now=NOW)

    assert removed == [stale]
    assert fresh.is_dir()


def test_a_negative_period_is_refused(tmp_path):
    with pytest.raises(BackupError, match="must not be negative"):
        prune_backups(tmp_path, -1, now=NOW)


def test_the_prune_command_prints_what_it_deletes(tmp_path):
    dest = tmp_path / "backups"
    old = datetime.now(UTC) - timedelta(days=20)
    make_set(dest / "old", created_at=old)
    make_set(dest / "new", created_at=datetime.now(UTC))

    result = CliRunner().invoke(
        backup,
        ["prune", "--dest", str(dest), "--keep-days", "7"],
        obj=Settings(project_dir=tmp_path),
    )

    assert result.exit_code == 0, result.output
    assert f"deleted {dest / 'old'}" in result.output
    assert "pruned: 1 older than 7 days" in result.output
    assert [p.name for p in dest.iterdir()] == ["new"]


def test_the_list_command_shows_the_sets_under_the_stack_dir_by_default(tmp_path):
    settings = Settings(project_dir=tmp_path)
    make_set(settings.stack_dir / "backups" / "2026-11-23")

    result = CliRunner().invoke(backup, ["list"], obj=settings)

    assert result.exit_code == 0, result.output
    assert "2026-11-23" in result.output
    assert "2026-11-23 02:00:00" in result.output
