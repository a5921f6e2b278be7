"""Write a backup set: pg_dump, every MongoDB collection, and the manifest."""

from __future__ import annotations

import logging
import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path

from pymongo.database import Database

from sluice.backup import mongo, postgres
from sluice.backup.errors import BackupError, step
from sluice.backup.manifest import (
    POSTGRES_DUMP,
    BackupSet,
    CollectionEntry,
    Manifest,
    MongoPart,
    PostgresPart,
    check_label,
    collection_file,
    describe_files,
    write_manifest,
)

log = logging.getLogger(__name__)

LABEL_FORMAT = "%Y%m%dT%H%M%SZ"


def default_label(moment: datetime) -> str:
    """The set name for a moment: its UTC time, e.g. ``20261123T020000Z``."""
    return moment.astimezone(UTC).strftime(LABEL_FORMAT)


def create_backup(
    dest: Path,
    *,
    postgres_url: str,
    mongo_db: Database,
    pg_bindir: Path | None = None,
    label: str | None = None,
    now: datetime | None = None,
    overwrite: bool = False,
) -> BackupSet:
    """Back up the PostgreSQL database of ``postgres_url`` and ``mongo_db`` into ``dest/<label>``.

    ``postgres_url`` is the owner role's URL (pg_dump must read every table); ``label``
    defaults to the UTC time of ``now`` (an Airflow run passes its logical day instead). The
    set is written into a hidden work directory and renamed into place when complete, so a
    crash never leaves something that looks like a set. An existing set of the same label is
    an error unless ``overwrite`` (then it is replaced once the new one is complete).

    The PostgreSQL counts and checksums are read in the very snapshot pg_dump dumps; the
    MongoDB ones are computed from the bytes written. Raises :class:`BackupError`.
    """
    created_at = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    label = check_label(label or default_label(created_at))
    final = dest / label
    if final.exists() and not overwrite:
        raise BackupError(
            f"backup set {final} exists already",
            fix="pick another label, or overwrite it (--overwrite / overwrite=True)",
        )
    with step(f"creating {dest}"):
        dest.mkdir(parents=True, exist_ok=True)
    work = dest / f".{label}.partial-{uuid.uuid4().hex[:8]}"
    work.mkdir()
    try:
        pg_part = _dump_postgres(postgres_url, work, pg_bindir)
        mongo_part = _dump_mongo(mongo_db, work)
        names = [pg_part.dump] + [c.file for c in mongo_part.collections.values()]
        with step(f"digesting the files of {work}"):
            files = describe_files(work, names)
        manifest = Manifest(label, created_at, pg_part, mongo_part, files)
        with step(f"writing the manifest of {work}"):
            write_manifest(work, manifest)
            _move_into_place(work, final)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    log.info(
        "backup written path=%s tables=%d collections=%d bytes=%d",
        final,
        len(pg_part.tables),
        len(mongo_part.collections),
        sum(f.size for f in files.values()),
    )
    return BackupSet(final, manifest)


def _dump_postgres(url: str, work: Path, pg_bindir: Path | None) -> PostgresPart:
    database = postgres.database_name(url)
    with postgres.exported_snapshot(url) as (conn, snapshot):
        with step(f"postgres: reading the tables of {database}"):
            version = postgres.server_version(conn)
            tables = postgres.table_stats(conn)
        # The exporting transaction stays open until pg_dump has taken the snapshot.
        postgres.dump(url, work / POSTGRES_DUMP, pg_bindir=pg_bindir, snapshot=snapshot)
    return PostgresPart(database, version, POSTGRES_DUMP, tables)


def _dump_mongo(db: Database, work: Path) -> MongoPart:
    collections = {}
    with step(f"mongo: listing the collections of {db.name}"):
        names = mongo.collection_names(db)
    for name in names:
        relative = collection_file(name)
        with step(f"mongo: dumping {db.name}.{name}"):
            # Indexes and options first: a dump takes a while and they rarely change.
            indexes = mongo.index_specs(db[name])
            options = mongo.collection_options(db, name)
            stats = mongo.dump_collection(db[name], work / relative)
        collections[name] = CollectionEntry(relative, stats, indexes, options)
        log.info("mongo collection dumped name=%s documents=%d", name, stats.count)
    return MongoPart(db.name, collections)


def _move_into_place(work: Path, final: Path) -> None:
    if not final.exists():
        work.rename(final)
        return
    # Replace: the old set moves aside first, so some complete set is always in place.
    old = final.with_name(f".{final.name}.replaced-{uuid.uuid4().hex[:8]}")
    final.rename(old)
    work.rename(final)
    shutil.rmtree(old, ignore_errors=True)
