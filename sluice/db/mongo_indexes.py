"""The MongoDB indexes of ``raw_items``, created idempotently.

A raw document's ``_id`` is the SHA-256 of the message (see ``processors/archiver.py``), so
``_id`` already makes documents unique by content. These secondary indexes serve the history of
one product (source, external_id, fetched_at), one crawl (crawl_id) and the reprocessing of a
date range of one item schema (schema, fetched_at).

They work on MongoDB and on FerretDB (SQLite backend) alike: plain ascending compound keys, no
partial filter expressions (FerretDB 1.24 does not implement them).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from pymongo.database import Database
from pymongo.errors import PyMongoError

log = logging.getLogger(__name__)

COLLECTION = "raw_items"


class MongoIndexError(Exception):
    """The indexes cannot be read or created; the message names the index and the cause."""

    def __init__(self, message: str, *, fix: str | None = None) -> None:
        super().__init__(message)
        self.fix = fix


@dataclass(frozen=True)
class IndexSpec:
    """One index: its name and its keys as (field, direction) pairs."""

    name: str
    keys: tuple[tuple[str, int], ...]
    collection: str = COLLECTION

    def describe(self) -> str:
        fields = ", ".join(f if d == 1 else f"{f} desc" for f, d in self.keys)
        return f"{self.collection}.{self.name} ({fields})"


RAW_ITEMS_INDEXES: tuple[IndexSpec, ...] = (
    IndexSpec(
        "source_external_id_fetched_at", (("source", 1), ("external_id", 1), ("fetched_at", 1))
    ),
    IndexSpec("crawl_id", (("crawl_id", 1),)),
    IndexSpec("schema_fetched_at", (("schema", 1), ("fetched_at", 1))),
)


def missing_indexes(
    db: Database, specs: tuple[IndexSpec, ...] = RAW_ITEMS_INDEXES
) -> list[IndexSpec]:
    """The indexes of ``specs`` that ``db`` lacks (reads only; for dry runs)."""
    return [spec for spec in specs if _existing_name(db, spec) is None]


def ensure_indexes(db: Database, specs: tuple[IndexSpec, ...] = RAW_ITEMS_INDEXES) -> list[str]:
    """Create the indexes of ``specs`` that ``db`` lacks; return the names of those created.

    Idempotent: a second call creates nothing and returns ``[]``. An index with the same keys
    under another name counts as present. Raises :class:`MongoIndexError` when an index of the
    same name has other keys, or when the server cannot be reached.
    """
    created = []
    for spec in specs:
        present = _existing_name(db, spec)
        if present is not None:
            log.debug("mongo index present index=%s as=%s", spec.describe(), present)
            continue
        try:
            db[spec.collection].create_index(list(spec.keys), name=spec.name)
        except PyMongoError as exc:
            raise MongoIndexError(
                f"cannot create index {spec.describe()} in {db.name}: {_first_line(exc)}"
            ) from exc
        log.info("mongo index created index=%s db=%s", spec.describe(), db.name)
        created.append(spec.name)
    return created


def _existing_name(db: Database, spec: IndexSpec) -> str | None:
    """The name under which ``spec``'s keys are indexed, or None; raises on a name clash."""
    try:
        existing = {
            index["name"]: tuple((f, _direction(d)) for f, d in index["key"].items())
            for index in db[spec.collection].list_indexes()
        }
    except PyMongoError as exc:
        raise MongoIndexError(
            f"cannot list the indexes of {db.name}.{spec.collection}: {_first_line(exc)}",
            fix="start the stack (`sluice stack up`) or correct SLUICE_MONGO_URL",
        ) from exc
    keys = existing.get(spec.name)
    if keys is not None and keys != spec.keys:
        raise MongoIndexError(
            f"index {db.name}.{spec.collection}.{spec.name} exists with keys {list(keys)}, "
            f"expected {list(spec.keys)}",
            fix=f"drop that index (db.{spec.collection}.dropIndex('{spec.name}')) and run again",
        )
    if keys is not None:
        return spec.name
    return next((name for name, other in existing.items() if other == spec.keys), None)


def _direction(value: object) -> object:
    # 1 / -1 (MongoDB may report 1.0), or a kind such as "text" or "2dsphere".
    return int(value) if isinstance(value, int | float) else value


def _first_line(exc: Exception) -> str:
    # pymongo's server-selection errors append a long topology description after the cause.
    text = str(exc).split(", Timeout:")[0].split(", full error:")[0]
    return (text.strip().splitlines() or [repr(exc)])[0][:300]
