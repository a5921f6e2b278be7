"""``sluice migrate``: apply the PostgreSQL migrations of ``sql/`` and the MongoDB indexes."""

from __future__ import annotations

import sys
from typing import NoReturn

import click
from pymongo.errors import ConfigurationError

from sluice.db import migrations
from sluice.db.mongo_indexes import (
    RAW_ITEMS_INDEXES,
    MongoIndexError,
    ensure_indexes,
    missing_indexes,
)
from sluice.settings import Settings
from sluice.storage.mongo import client as mongo_client


def _fail(service: str, exc: migrations.MigrationError | MongoIndexError) -> NoReturn:
    click.echo(f"sluice: {service}: {exc}", err=True)
    if exc.fix:
        click.echo(f"  fix: {exc.fix}", err=True)
    sys.exit(1)


def _postgres(settings: Settings, dry_run: bool) -> None:
    try:
        report = migrations.migrate(settings, dry_run=dry_run)
    except migrations.MigrationError as exc:
        for done in exc.applied:
            click.echo(f"postgres: applied {done.filename}")
        _fail("postgres", exc)
    if dry_run:
        for pending in report.pending:
            click.echo(f"postgres: would apply {pending.filename}")
        click.echo(
            f"postgres: {len(report.pending)} pending, {report.already_applied} already applied "
            f"(schema at version {report.current_version})"
        )
        return
    for done in report.applied:
        click.echo(f"postgres: applied {done.filename}")
    click.echo(
        f"postgres: {len(report.applied)} applied, {report.already_applied} already applied "
        f"(schema at version {report.current_version})"
    )


def _mongo(settings: Settings, dry_run: bool) -> None:
    with mongo_client(settings.mongo_url) as conn:
        try:
            db = conn.get_default_database()
            if dry_run:
                absent = missing_indexes(db)
                for spec in RAW_ITEMS_INDEXES:
                    verb = "would create" if spec in absent else "present"
                    click.echo(f"mongo: {verb} {spec.describe()}")
                return
            created = ensure_indexes(db)
        except ConfigurationError as exc:
            _fail("mongo", MongoIndexError(str(exc), fix="name the database in SLUICE_MONGO_URL"))
        except MongoIndexError as exc:
            _fail("mongo", exc)
    for spec in RAW_ITEMS_INDEXES:
        verb = "created" if spec.name in created else "present"
        click.echo(f"mongo: {verb} {spec.describe()}")


@click.command("migrate")
@click.option(
    "--dry-run", is_flag=True, help="Print the pending migrations and missing indexes only."
)
@click.pass_obj
def migrate(settings: Settings, dry_run: bool) -> None:
    """Apply pending PostgreSQL migrations (sql/) and create missing MongoDB indexes."""
    if dry_run:
        _postgres(settings, dry_run=True)
        _mongo(settings, dry_run=True)
    else:
        migrate_command(settings)


def migrate_command(settings: Settings) -> None:
    """Apply migrations and indexes (the step `sluice up` runs before the processors start)."""
    _postgres(settings, dry_run=False)
    _mongo(settings, dry_run=False)
