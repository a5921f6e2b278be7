"""Retention on the real stores: what is older than a store's retention goes, what is younger
stays, in MongoDB, PostgreSQL, the report folder, the export folder and the export bucket.

Each test plants one entry just older and one just younger than its cutoff in every store, in
the 1920s: older than anything else the suite (or a user) keeps on the stack, so a pruning
judged there removes only what the test planted.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sluice import retention
from sluice.retention import STORES, Stores, prune
from sluice.storage.mongo import client as mongo_client
from sluice.storage.objects import ObjectStore
from sluice.storage.postgres import connect
from tests.support.airflow import run_dag

pytestmark = [pytest.mark.postgres, pytest.mark.mongo, pytest.mark.stack]

#: the moment the module's own pruning is judged at, with one day of retention
JUDGED_AT = datetime(1920, 1, 10, tzinfo=UTC)


#: how many rows of a planted name each PostgreSQL store holds
COUNT_PLANTED = {
    retention.REJECTED_ITEMS: "SELECT count(*) FROM rejected_items WHERE crawl_id = %s",
    retention.DQ_RESULTS: "SELECT count(*) FROM dq_results WHERE run_id = %s",
}


@dataclass
class Planted:
    """One entry per store just older (``old``) and just younger (``new``) than ``cutoff``."""

    tag: str
    cutoff: datetime

    def moment(self, age: str) -> datetime:
        return self.cutoff + (timedelta(days=-1) if age == "old" else timedelta(hours=12))

    def name(self, age: str) -> str:
        return f"{self.tag}-{age}"

    def day(self, age: str) -> str:
        return self.moment(age).date().isoformat()


def plant(settings, planted: Planted, objects: ObjectStore) -> None:
    """Put the old and the new entry into every store."""
    with mongo_client(settings.mongo_url) as mongo, connect(settings.postgres_url) as conn:
        db = mongo.get_default_database()
        for age in ("old", "new"):
            name, at = planted.name(age), planted.moment(age)
            db[retention.RAW_ITEMS].insert_one({"_id": name, "received_at": at})
            conn.execute(
                'INSERT INTO rejected_items (topic, partition, "offset", crawl_id, stage, '
                "reason, rejected_at) VALUES ('test.retention', 0, %s, %s, 'normalize', "
                "'test', %s)",
                (uuid.uuid4().int % 10**12, name, at),
            )
            conn.execute(
                "INSERT INTO dq_results (run_id, check_name, passed, checked_at) "
                "VALUES (%s, 'test', true, %s)",
                (name, at),
            )
            report = settings.stack_dir / "reports" / f"{name}.html"
            report.parent.mkdir(parents=True, exist_ok=True)
            report.write_text("<html></html>")
            os.utime(report, (at.timestamp(), at.timestamp()))
            export = settings.export_dir / planted.day(age) / f"{name}.csv.gz"
            export.parent.mkdir(parents=True, exist_ok=True)
            export.write_bytes(b"")
            objects.put_file(settings.export_bucket, f"{planted.day(age)}/{name}.csv.gz", export)
        conn.commit()


def present(settings, planted: Planted, objects: ObjectStore) -> dict[str, dict[str, bool]]:
    """For every store, whether its old and its new entry are still there."""
    found: dict[str, dict[str, bool]] = {store: {} for store in STORES}
    keys = {item.key for item in objects.objects(settings.export_bucket)}
    with mongo_client(settings.mongo_url) as mongo, connect(settings.postgres_url) as conn:
        db = mongo.get_default_database()
        for age in ("old", "new"):
            name = planted.name(age)
            found[retention.RAW_ITEMS][age] = (
                db[retention.RAW_ITEMS].count_documents({"_id": name}) == 1
            )
            for table, query in COUNT_PLANTED.items():
                found[table][age] = conn.execute(query, (name,)).fetchone()[0] == 1
            found[retention.REPORTS][age] = (
                settings.stack_dir / "reports" / f"{name}.html"
            ).exists()
            local = (settings.export_dir / planted.day(age) / f"{name}.csv.gz").exists()
            remote = f"{planted.day(age)}/{name}.csv.gz" in keys
            found[retention.EXPORTS][age] = local and remote
    return found


def clean(settings, planted: Planted, objects: ObjectStore) -> None:
    """Remove whatever of the planted entries is left."""
    names = [planted.name(age) for age in ("old", "new")]
    with mongo_client(settings.mongo_url) as mongo, connect(settings.postgres_url) as conn:
        mongo.get_default_database()[retention.RAW_ITEMS].delete_many({"_id": {"$in": names}})
        conn.execute("DELETE FROM rejected_items WHERE crawl_id = ANY(%s)", (names,))
        conn.execute("DELETE FROM dq_results WHERE run_id = ANY(%s)", (names,))
        conn.commit()
    for age in ("old", "new"):
        (settings.stack_dir / "reports" / f"{planted.name(age)}.html").unlink(missing_ok=True)
        folder: Path = settings.export_dir / planted.day(age)
        (folder / f"{planted.name(age)}.csv.gz").unlink(missing_ok=True)
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
        objects.delete(settings.export_bucket, [f"{planted.day(age)}/{planted.name(age)}.csv.gz"])


@pytest.fixture
def objects(stack, settings) -> ObjectStore:
    store = ObjectStore(settings)
    store.ensure_bucket(settings.export_bucket)
    return store


@pytest.fixture
def planted_for(stack, migrated, settings, objects) -> Iterator:
    """``planted_for(cutoff)`` plants around ``cutoff``; everything is removed afterwards."""
    made: list[Planted] = []

    def make(cutoff: datetime) -> Planted:
        planted = Planted(f"test-retention-{uuid.uuid4().hex[:10]}", cutoff)
        made.append(planted)
        plant(settings, planted, objects)
        return planted

    yield make
    for planted in made:
        clean(settings, planted, objects)


def everywhere(old: bool, new: bool) -> dict[str, dict[str, bool]]:
    """The same presence of the old and the new entry in every store."""
    return {store: {"old": old, "new": new} for store in STORES}


def prune_with_one_day(settings, objects: ObjectStore, dry_run: bool = False) -> list:
    """Every store pruned with one day of retention, judged at :data:`JUDGED_AT`."""
    short = replace(settings, **{f"retain_{store}_days": 1 for store in STORES})
    with (
        connect(settings.postgres_url, autocommit=True) as conn,
        mongo_client(settings.mongo_url) as mongo,
    ):
        stores = Stores(conn, mongo.get_default_database(), objects)
        return prune(short, stores, now=JUDGED_AT, dry_run=dry_run)


def test_pruning_removes_what_is_older_than_each_stores_retention(settings, planted_for, objects):
    planted = planted_for(JUDGED_AT - timedelta(days=1))
    prune_with_one_day(settings, objects)
    assert present(settings, planted, objects) == everywhere(old=False, new=True)


def test_a_dry_run_counts_and_removes_nothing(settings, planted_for, objects):
    planted = planted_for(JUDGED_AT - timedelta(days=1))
    counted = prune_with_one_day(settings, objects, dry_run=True)
    # Two exports per day: the local file and the bucket's object.
    expected = {store: 2 if store == retention.EXPORTS else 1 for store in STORES}
    after = present(settings, planted, objects)
    assert ({p.store: p.removed for p in counted}, after) == (
        expected,
        everywhere(old=True, new=True),
    )


def test_the_retention_dag_prunes_by_the_settings(
    settings, planted_for, objects, airflow_env, monkeypatch
):
    now = datetime.now(UTC)
    days = (now - JUDGED_AT).days
    for store in STORES:
        monkeypatch.setenv(f"SLUICE_RETAIN_{store.upper()}_DAYS", str(days))
    planted = planted_for(now - timedelta(days=days))
    run = run_dag(settings, "retention", retries=0)
    assert (run.state, present(settings, planted, objects)) == (
        "success",
        everywhere(old=False, new=True),
    )
