"""MongoDB side of backups: dump and load collections, their indexes, content stats.

There is no ``mongodump`` on the platform's machines (and FerretDB speaks only the wire
protocol), so collections are dumped through pymongo as raw BSON, in ``_id`` order.
"""

from __future__ import annotations

import contextlib
import json
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bson import json_util
from pymongo import MongoClient
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import PyMongoError

from sluice.backup.bsonfile import DigestingCounter, iter_batches, write_batches
from sluice.backup.errors import BackupError, first_line
from sluice.backup.manifest import ContentStats

log = logging.getLogger(__name__)

#: MongoDB's limit on database names (FerretDB's is 63)
_MAX_NAME = 63
# Index fields that describe the index entry itself, not how to create it.
_INDEX_IDENTITY = frozenset({"v", "key", "name", "ns"})


def collection_names(db: Database) -> list[str]:
    """The collections of ``db`` that hold documents: no views, no ``system.*``; sorted."""
    return sorted(
        info["name"]
        for info in db.list_collections()
        if info.get("type", "collection") == "collection" and not info["name"].startswith("system.")
    )


def _to_json(value: dict[str, Any]) -> dict[str, Any]:
    # Relaxed extended JSON: plain numbers stay numbers, other BSON types stay typed.
    return json.loads(json_util.dumps(value, json_options=json_util.RELAXED_JSON_OPTIONS))


def _from_json(value: dict[str, Any]) -> dict[str, Any]:
    return json_util.loads(json.dumps(value))


def collection_options(db: Database, name: str) -> dict[str, Any]:
    """The creation options of a collection (capped, validator, ...), as JSON."""
    for info in db.list_collections(filter={"name": name}):
        return _to_json(dict(info.get("options") or {}))
    return {}


def index_specs(collection: Collection) -> list[dict[str, Any]]:
    """The secondary indexes of a collection as JSON: name, key pairs and creation options."""
    specs = []
    for index in collection.list_indexes():
        if index["name"] == "_id_":
            continue
        options = {k: v for k, v in index.items() if k not in _INDEX_IDENTITY}
        specs.append(
            {
                "name": index["name"],
                "key": [[field, _direction(d)] for field, d in index["key"].items()],
                "options": _to_json(options),
            }
        )
    return sorted(specs, key=lambda spec: spec["name"])


def _direction(value: object) -> object:
    # MongoDB may report 1.0 for 1; kinds such as "text" stay strings.
    return int(value) if isinstance(value, int | float) else value


def create_indexes(collection: Collection, specs: list[dict[str, Any]]) -> None:
    """Create the indexes :func:`index_specs` described."""
    for spec in specs:
        collection.create_index(
            [(field, direction) for field, direction in spec["key"]],
            name=spec["name"],
            **_from_json(spec.get("options", {})),
        )


def _sorted_raw_batches(collection: Collection) -> Iterator[bytes]:
    # _id order makes the dump and the checksum independent of storage order.
    return collection.find_raw_batches(sort=[("_id", 1)])


def dump_collection(collection: Collection, path: Path) -> ContentStats:
    """Write every document of ``collection`` to ``path`` (gzipped BSON); return its stats."""
    return write_batches(_sorted_raw_batches(collection), path)


def collection_stats(collection: Collection) -> ContentStats:
    """Documents and content checksum of a collection, computed as :func:`dump_collection` does."""
    counter = DigestingCounter()
    for batch in _sorted_raw_batches(collection):
        counter.update(batch)
    return counter.stats


def load_collection(
    db: Database,
    name: str,
    path: Path,
    *,
    indexes: list[dict[str, Any]] | None = None,
    options: dict[str, Any] | None = None,
) -> int:
    """Create collection ``name`` in ``db`` from a dump file; return the documents inserted.

    The collection must not exist yet. Its options are applied at creation and its
    secondary indexes built afterwards (one pass over loaded data beats a per-insert cost).
    """
    db.create_collection(name, **_from_json(options or {}))
    inserted = 0
    for batch in iter_batches(path):
        db[name].insert_many(batch, ordered=True)
        inserted += len(batch)
    create_indexes(db[name], indexes or [])
    return inserted


def temporary_name(name: str, purpose: str = "restore") -> str:
    """A collection name beside ``name``, e.g. to load it before it replaces the live one.

    No dots after ``name``: FerretDB refuses to rename a collection whose name has a dot.
    """
    return f"{name}__{purpose}_{uuid.uuid4().hex[:8]}"


def replace_collection(db: Database, name: str, loaded: str) -> None:
    """Make the loaded collection ``loaded`` the collection ``name``; drop the old one.

    MongoDB would do this in one step with ``renameCollection(dropTarget=true)``; FerretDB does
    not implement dropTarget. So the live collection is renamed aside first and dropped only
    once the loaded one has its name; if that rename fails, the live one is put back.
    """
    if not db.list_collection_names(filter={"name": name}):
        db[loaded].rename(name)
        return
    aside = temporary_name(name, "replaced")
    db[name].rename(aside)
    try:
        db[loaded].rename(name)
    except PyMongoError:
        db[aside].rename(name)
        raise
    db.drop_collection(aside)


def scratch_name(base: str) -> str:
    """A fresh database name ``<base>_restorecheck_<random>`` within the name limit."""
    suffix = f"_restorecheck_{uuid.uuid4().hex[:8]}"
    return f"{base[: _MAX_NAME - len(suffix)]}{suffix}"


@contextlib.contextmanager
def scratch_database(client: MongoClient, base: str) -> Iterator[Database]:
    """A fresh, empty database on ``client``'s server; dropped afterwards, even on failure."""
    name = scratch_name(base)
    failed = True
    try:
        yield client[name]
        failed = False
    finally:
        try:
            client.drop_database(name)
            log.debug("scratch database dropped name=%s", name)
        except PyMongoError as exc:
            if failed:
                log.error("cannot drop scratch database %s: %s", name, first_line(exc))
            else:
                raise BackupError(
                    f"mongo: cannot drop scratch database {name}: {first_line(exc)}",
                    fix=f"drop it by hand: db.getSiblingDB('{name}').dropDatabase()",
                ) from exc


@contextlib.contextmanager
def loaded_collections(db: Database) -> Iterator[dict[str, str]]:
    """Track temporary collections loaded into ``db``; drop those not renamed in the end.

    The mapping is collection name -> temporary name; remove an entry once it has replaced
    its collection.
    """
    pending: dict[str, str] = {}
    try:
        yield pending
    finally:
        for loaded in pending.values():
            with contextlib.suppress(PyMongoError):
                db.drop_collection(loaded)
