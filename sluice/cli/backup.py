"""``sluice backup create / verify / restore / prune / list``: backups proven to restore."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

import click

from sluice.backup import (
    BackupError,
    create_backup,
    list_backups,
    prune_backups,
    read_backup,
    restore_backup,
    verify_backup,
)
from sluice.backup.postgres import redact
from sluice.backup.remote import (
    SCHEME,
    fetch_backup,
    list_remote_backups,
    prune_remote_backups,
    upload_backup,
)
from sluice.settings import Settings
from sluice.storage.mongo import client as mongo_client
from sluice.storage.objects import ObjectStore

#: FerretDB scans whole collections for counts and sorts; a backup's reads are long.
MONGO_TIMEOUT = 120.0
DEFAULT_KEEP_DAYS = 7


def _fail(exc: BackupError) -> NoReturn:
    click.echo(f"sluice: backup: {exc}", err=True)
    if exc.fix:
        click.echo(f"  fix: {exc.fix}", err=True)
    sys.exit(1)


def _dest(settings: Settings, dest: Path | None) -> Path:
    return dest if dest is not None else settings.backup_dir


def _size(size: int) -> str:
    if size < 1000:
        return f"{size} B"
    value, unit = size / 1000, "kB"
    for larger in ("MB", "GB"):
        if value < 1000:
            break
        value, unit = value / 1000, larger
    return f"{value:.1f} {unit}"


@contextmanager
def _local_set(settings: Settings, where: str) -> Iterator[Path]:
    """The set at ``where``: a directory, or an ``s3://`` set fetched into a temporary one."""
    if not where.startswith(SCHEME):
        path = Path(where)
        if not path.is_dir():
            _fail(BackupError(f"{where} is not a directory", fix="pass a set's directory"))
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="sluice-backup-") as scratch:
        try:
            yield fetch_backup(ObjectStore(settings), where, Path(scratch))
        except BackupError as exc:
            _fail(exc)


_dest_option = click.option(
    "--dest",
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory holding the backup sets [default: SLUICE_BACKUP_DIR].",
)


@click.group()
def backup() -> None:
    """Back up PostgreSQL and MongoDB, prove the backups restore, restore them."""


@backup.command("create")
@_dest_option
@click.option("--label", help="Name of the set [default: the UTC time, e.g. 20261123T020000Z].")
@click.option(
    "--keep-days",
    type=click.IntRange(min=0),
    help="Afterwards delete sets older than this many days (never the newest). Default: keep all.",
)
@click.option(
    "--verify/--no-verify",
    default=True,
    show_default=True,
    help="Restore the new set into scratch databases and compare it with its manifest.",
)
@click.option("--overwrite", is_flag=True, help="Replace an existing set of the same label.")
@click.option(
    "--upload/--no-upload",
    default=True,
    show_default=True,
    help="Upload the set to SLUICE_BACKUP_BUCKET (and verify the uploaded copy).",
)
@click.pass_obj
def create_command(
    settings: Settings,
    dest: Path | None,
    label: str | None,
    keep_days: int | None,
    verify: bool,
    overwrite: bool,
    upload: bool,
) -> None:
    """Dump PostgreSQL and every MongoDB collection into a new backup set."""
    directory = _dest(settings, dest)
    with mongo_client(settings.mongo_url, timeout=MONGO_TIMEOUT) as conn:
        try:
            created = create_backup(
                directory,
                postgres_url=settings.postgres_url,
                mongo_db=conn.get_default_database(),
                pg_bindir=settings.pg_bindir,
                label=label,
                overwrite=overwrite,
            )
            manifest = created.manifest
            click.echo(f"backup {created.label}: {created.path} ({_size(created.size)})")
            click.echo(
                f"  postgres {manifest.postgres.database}: {len(manifest.postgres.tables)} tables, "
                f"{sum(t.count for t in manifest.postgres.tables.values())} rows"
            )
            click.echo(
                f"  mongo {manifest.mongo.database}: {len(manifest.mongo.collections)} "
                f"collections, {sum(c.stats.count for c in manifest.mongo.collections.values())} "
                "documents"
            )
            where = str(created.path)
            if upload:
                where = upload_backup(ObjectStore(settings), settings.backup_bucket, created.path)
                click.echo(f"uploaded: {where}")
        except BackupError as exc:
            _fail(exc)
        if verify:
            # The copy that would be restored is the one verified: the uploaded one if any.
            with _local_set(settings, where) as copy:
                report = _verify(settings, conn, copy)
            click.echo(
                f"verified {where}: restored into scratch databases in {report.seconds:.1f}s; "
                "every table and collection matches"
            )
    if keep_days is not None:
        _prune(settings, directory, keep_days, dry_run=False, remote=upload)


def _verify(settings: Settings, conn, path: Path):
    """Restore the set at ``path`` into scratch databases and compare; exit 1 if it differs."""
    try:
        return verify_backup(
            path,
            postgres_url=settings.postgres_url,
            mongo_client=conn,
            pg_bindir=settings.pg_bindir,
        )
    except BackupError as exc:
        _fail(exc)


@backup.command("verify")
@click.argument("where")
@click.pass_obj
def verify_command(settings: Settings, where: str) -> None:
    """Check a set's files, restore it into scratch databases and compare with its manifest.

    WHERE is a set's directory or a stored set, s3://<bucket>/<label>.
    """
    with (
        mongo_client(settings.mongo_url, timeout=MONGO_TIMEOUT) as conn,
        _local_set(settings, where) as path,
    ):
        report = _verify(settings, conn, path)
    click.echo(
        f"verified {where}: {report.tables} tables ({report.rows} rows) and "
        f"{report.collections} collections ({report.documents} documents) restore as recorded "
        f"({report.seconds:.1f}s)"
    )


@backup.command("restore")
@click.argument("where")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def restore_command(settings: Settings, where: str, yes: bool) -> None:
    """Replace the live databases' contents with a backup set (stop the writers first).

    WHERE is a set's directory or a stored set, s3://<bucket>/<label> (see `backup list`).
    """
    with _local_set(settings, where) as path:
        _restore(settings, path, yes)


def _restore(settings: Settings, path: Path, yes: bool) -> None:
    try:
        found = read_backup(path)
    except BackupError as exc:
        _fail(exc)
    with mongo_client(settings.mongo_url, timeout=MONGO_TIMEOUT) as conn:
        db = conn.get_default_database()
        if not yes:
            click.confirm(
                f"Replace the tables of PostgreSQL {redact(settings.postgres_url)} and "
                f"{len(found.manifest.mongo.collections)} collections of MongoDB {db.name} "
                f"with backup {found.label} ({found.created_at:%Y-%m-%d %H:%M} UTC)?",
                abort=True,
            )
        try:
            report = restore_backup(
                path, postgres_url=settings.postgres_url, mongo_db=db, pg_bindir=settings.pg_bindir
            )
        except BackupError as exc:
            _fail(exc)
    click.echo(
        f"restored {found.label}: {report.tables} tables ({report.rows} rows), "
        f"{report.collections} collections ({report.documents} documents)"
    )


@backup.command("prune")
@_dest_option
@click.option(
    "--keep-days", type=click.IntRange(min=0), default=DEFAULT_KEEP_DAYS, show_default=True
)
@click.option("--dry-run", is_flag=True, help="Only print what would be deleted.")
@click.option(
    "--remote/--no-remote",
    default=True,
    show_default=True,
    help="Also prune the sets stored in SLUICE_BACKUP_BUCKET.",
)
@click.pass_obj
def prune_command(
    settings: Settings, dest: Path | None, keep_days: int, dry_run: bool, remote: bool
) -> None:
    """Delete backup sets older than --keep-days days; the newest set is always kept."""
    _prune(settings, _dest(settings, dest), keep_days, dry_run=dry_run, remote=remote)


def _prune(
    settings: Settings, directory: Path, keep_days: int, *, dry_run: bool, remote: bool
) -> None:
    try:
        removed = [str(p) for p in prune_backups(directory, keep_days, dry_run=dry_run)]
        if remote and not dry_run:
            store = ObjectStore(settings)
            removed += prune_remote_backups(store, settings.backup_bucket, keep_days)
    except BackupError as exc:
        _fail(exc)
    verb = "would delete" if dry_run else "deleted"
    for path in removed:
        click.echo(f"{verb} {path}")
    click.echo(
        f"pruned: {len(removed)} older than {keep_days} days{' (dry run)' if dry_run else ''}"
    )


@backup.command("list")
@_dest_option
@click.pass_obj
def list_command(settings: Settings, dest: Path | None) -> None:
    """The backup sets, here and in SLUICE_BACKUP_BUCKET, oldest first."""
    try:
        stored = list_remote_backups(ObjectStore(settings), settings.backup_bucket)
    except BackupError as exc:
        _fail(exc)
    sets = [(str(s.path), s.manifest) for s in list_backups(_dest(settings, dest))]
    sets += [(s.uri, s.manifest) for s in stored]
    if not sets:
        click.echo(f"no backup sets in {_dest(settings, dest)} or {settings.backup_bucket}")
        return
    sets.sort(key=lambda found: (found[1].created_at, found[0]))
    click.echo(
        f"{'LABEL':<22} {'CREATED (UTC)':<20} {'SIZE':>9} {'ROWS':>10} {'DOCUMENTS':>10}  WHERE"
    )
    for where, manifest in sets:
        size = sum(f.size for f in manifest.files.values())
        click.echo(
            f"{manifest.label:<22} {manifest.created_at:%Y-%m-%d %H:%M:%S}  {_size(size):>9} "
            f"{sum(t.count for t in manifest.postgres.tables.values()):>10} "
            f"{sum(c.stats.count for c in manifest.mongo.collections.values()):>10}  {where}"
        )
