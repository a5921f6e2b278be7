"""`sluice retention`: prune what each store keeps beyond its retention (sluice/retention.py)."""

from __future__ import annotations

import sys

import click
import psycopg
from pymongo.errors import PyMongoError

from sluice.retention import Stores, describe_policy, prune
from sluice.settings import Settings
from sluice.storage.mongo import client as mongo_client
from sluice.storage.objects import ObjectStore, ObjectStoreError
from sluice.storage.postgres import connect


@click.command("retention")
@click.option("--dry-run", is_flag=True, help="Only count what would be removed.")
@click.option(
    "--bucket/--no-bucket",
    default=True,
    show_default=True,
    help="Also prune the export bucket (SLUICE_EXPORT_BUCKET).",
)
@click.pass_obj
def retention(settings: Settings, dry_run: bool, bucket: bool) -> None:
    """Remove archived envelopes, rejected records, data-quality results, crawl reports and
    daily exports older than their retention (SLUICE_RETAIN_<STORE>_DAYS; 0 keeps forever)."""
    for line in describe_policy(settings):
        click.echo(f"policy: {line}")
    try:
        with (
            connect(settings.postgres_url, autocommit=True) as conn,
            mongo_client(settings.mongo_url) as mongo,
        ):
            objects = ObjectStore(settings) if bucket else None
            stores = Stores(conn, mongo.get_default_database(), objects)
            pruned = prune(settings, stores, dry_run=dry_run)
    except (psycopg.Error, PyMongoError, ObjectStoreError) as exc:
        click.echo(f"sluice retention: {exc}", err=True)
        sys.exit(1)
    for done in pruned:
        click.echo(done.describe(dry_run))
