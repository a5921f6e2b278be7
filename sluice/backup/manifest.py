"""The manifest of a backup set: what it holds, the SHA-256 of each file, and the source counts.

A backup set is one directory::

    <label>/
        manifest.json
        postgres.dump              pg_dump custom format (compressed)
        mongo/<collection>.bson.gz  the collection's documents as concatenated BSON, gzipped

``manifest.json`` records, besides the file digests, what the databases held when the set was
written: rows and a content checksum per PostgreSQL table, documents and a content checksum per
MongoDB collection. Verification restores the set and compares against those numbers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from sluice.backup.errors import BackupError
from sluice.checksums import sha256_file

FORMAT = "sluice-backup"
VERSION = 1
MANIFEST_NAME = "manifest.json"
POSTGRES_DUMP = "postgres.dump"
MONGO_DIR = "mongo"
#: a set's directory name: no path separators, no leading dot (dot-names are work in progress)
LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


@dataclass(frozen=True)
class ContentStats:
    """How many rows (or documents) a table (or collection) holds, and a digest of them."""

    count: int
    checksum: str


@dataclass(frozen=True)
class FileEntry:
    """Size and SHA-256 (hex) of one file of a set."""

    size: int
    sha256: str


@dataclass(frozen=True)
class PostgresPart:
    """The PostgreSQL half of a set: the dump file and the tables it must restore to."""

    database: str
    server_version: str
    dump: str
    tables: dict[str, ContentStats]


@dataclass(frozen=True)
class CollectionEntry:
    """One MongoDB collection: its file, its content, its secondary indexes and options."""

    file: str
    stats: ContentStats
    indexes: list[dict[str, Any]] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MongoPart:
    """The MongoDB half of a set."""

    database: str
    collections: dict[str, CollectionEntry]

    def collections_stats(self) -> dict[str, ContentStats]:
        """Documents and checksum per collection, as :func:`compare_stats` takes them."""
        return {name: entry.stats for name, entry in self.collections.items()}


@dataclass(frozen=True)
class Manifest:
    """Everything ``manifest.json`` says about a set."""

    label: str
    created_at: datetime
    postgres: PostgresPart
    mongo: MongoPart
    files: dict[str, FileEntry]
    version: int = VERSION

    def totals(self) -> dict[str, int]:
        """How much the set holds: tables, rows, collections, documents."""
        return {
            "tables": len(self.postgres.tables),
            "rows": sum(s.count for s in self.postgres.tables.values()),
            "collections": len(self.mongo.collections),
            "documents": sum(c.stats.count for c in self.mongo.collections.values()),
        }

    def to_dict(self) -> dict[str, Any]:
        """The JSON document written as ``manifest.json``."""
        return {
            "format": FORMAT,
            "version": self.version,
            "label": self.label,
            "created_at": format_time(self.created_at),
            "postgres": {
                "database": self.postgres.database,
                "server_version": self.postgres.server_version,
                "dump": self.postgres.dump,
                "tables": {
                    name: {"rows": s.count, "checksum": s.checksum}
                    for name, s in sorted(self.postgres.tables.items())
                },
            },
            "mongo": {
                "database": self.mongo.database,
                "collections": {
                    name: {
                        "file": c.file,
                        "documents": c.stats.count,
                        "checksum": c.stats.checksum,
                        "indexes": c.indexes,
                        "options": c.options,
                    }
                    for name, c in sorted(self.mongo.collections.items())
                },
            },
            "files": {
                name: {"bytes": f.size, "sha256": f.sha256}
                for name, f in sorted(self.files.items())
            },
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Manifest:
        """Parse and check a manifest document; a malformed one raises :class:`BackupError`."""
        try:
            if data.get("format") != FORMAT:
                raise ValueError(f"format is {data.get('format')!r}, expected {FORMAT!r}")
            if data.get("version") != VERSION:
                raise ValueError(f"version {data.get('version')!r} is not supported ({VERSION})")
            pg, mongo = data["postgres"], data["mongo"]
            manifest = cls(
                label=str(data["label"]),
                created_at=parse_time(data["created_at"]),
                postgres=PostgresPart(
                    database=str(pg["database"]),
                    server_version=str(pg["server_version"]),
                    dump=str(pg["dump"]),
                    tables={
                        str(name): ContentStats(int(t["rows"]), str(t["checksum"]))
                        for name, t in pg["tables"].items()
                    },
                ),
                mongo=MongoPart(
                    database=str(mongo["database"]),
                    collections={
                        str(name): CollectionEntry(
                            file=str(c["file"]),
                            stats=ContentStats(int(c["documents"]), str(c["checksum"])),
                            indexes=list(c.get("indexes", [])),
                            options=dict(c.get("options", {})),
                        )
                        for name, c in mongo["collections"].items()
                    },
                ),
                files={
                    str(name): FileEntry(int(f["bytes"]), str(f["sha256"]))
                    for name, f in data["files"].items()
                },
                version=int(data["version"]),
            )
        except BackupError:
            raise
        except KeyError as exc:
            raise BackupError(f"manifest: field {exc.args[0]!r} is missing") from exc
        except (TypeError, ValueError, AttributeError) as exc:
            raise BackupError(f"manifest: {exc}") from exc
        manifest._check_references()
        return manifest

    def _check_references(self) -> None:
        # Every data file must be digested, and no name may lead out of the set's directory.
        for name in self.files:
            relative_name(name)
        referenced = [self.postgres.dump] + [c.file for c in self.mongo.collections.values()]
        for name in referenced:
            if name not in self.files:
                raise BackupError(f"manifest: {name} is referenced but has no sha256 entry")


def format_time(moment: datetime) -> str:
    """``2026-11-23T02:00:00Z``: UTC, seconds, the form the manifest uses."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime:
    """The inverse of :func:`format_time` (any ISO 8601 with a zone is accepted)."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"created_at {text!r} has no time zone")
    return moment.astimezone(UTC)


def check_label(label: str) -> str:
    """Return ``label`` if it can name a set directory, else raise :class:`BackupError`."""
    if not LABEL.match(label):
        raise BackupError(
            f"backup label {label!r} is not a plain directory name",
            fix="use letters, digits, '.', '_' and '-' (e.g. 2026-11-23 or 20261123T020000Z)",
        )
    return label


def relative_name(name: str) -> PurePosixPath:
    """A file name of the manifest as a path inside the set; refuses absolute paths and '..'."""
    path = PurePosixPath(name)
    if not name or path.is_absolute() or ".." in path.parts or "\\" in name:
        raise BackupError(f"manifest: file name {name!r} points outside the backup set")
    return path


def collection_file(collection: str) -> str:
    """The set-relative file of a collection; names are percent-quoted to be file-name safe."""
    return f"{MONGO_DIR}/{quote(collection, safe='._-')}.bson.gz"


def file_entry(path: Path) -> FileEntry:
    """Size and SHA-256 of a file."""
    return FileEntry(path.stat().st_size, sha256_file(path))


def describe_files(set_dir: Path, names: list[str]) -> dict[str, FileEntry]:
    """The ``files`` section for ``names`` (set-relative) of the set in ``set_dir``."""
    return {name: file_entry(set_dir / relative_name(name)) for name in names}


def file_problems(set_dir: Path, manifest: Manifest) -> list[str]:
    """What is wrong with the files of a set: missing, truncated or altered; empty if intact."""
    problems = []
    for name, expected in sorted(manifest.files.items()):
        path = set_dir / relative_name(name)
        if not path.is_file():
            problems.append(f"{name}: missing")
            continue
        size = path.stat().st_size
        if size != expected.size:
            problems.append(f"{name}: {size} bytes, the manifest says {expected.size}")
            continue
        actual = sha256_file(path)
        if actual != expected.sha256:
            problems.append(
                f"{name}: sha256 {actual[:16]}... does not match the manifest's "
                f"{expected.sha256[:16]}..."
            )
    return problems


def check_files(set_dir: Path, manifest: Manifest) -> None:
    """Raise :class:`BackupError` naming every file of the set that is missing or altered."""
    problems = file_problems(set_dir, manifest)
    if problems:
        raise BackupError(
            f"backup set {set_dir} is damaged:\n  " + "\n  ".join(problems),
            fix="restore from another (older) set; this one cannot be trusted",
        )


def compare_stats(
    expected: Mapping[str, ContentStats],
    actual: Mapping[str, ContentStats],
    *,
    kind: str,
    unit: str,
    ignore_extra: bool = False,
) -> list[str]:
    """The differences between recorded and restored content, one sentence each.

    ``kind`` ("table", "collection") and ``unit`` ("rows", "documents") word the sentences.
    With ``ignore_extra``, objects present only in ``actual`` are not differences (a restore
    into a live database leaves objects created after the backup alone).
    """
    problems = []
    for name in sorted(expected.keys() | actual.keys()):
        want, got = expected.get(name), actual.get(name)
        if got is None:
            problems.append(f"{kind} {name}: missing after restore (expected {want.count} {unit})")
        elif want is None:
            if not ignore_extra:
                problems.append(f"{kind} {name}: not in the backup ({got.count} {unit} restored)")
        elif want.count != got.count:
            problems.append(f"{kind} {name}: {unit} expected {want.count}, got {got.count}")
        elif want.checksum != got.checksum:
            problems.append(
                f"{kind} {name}: content checksum expected {want.checksum}, got {got.checksum}"
            )
    return problems


def write_manifest(set_dir: Path, manifest: Manifest) -> Path:
    """Write ``manifest.json`` into ``set_dir``; return its path."""
    path = set_dir / MANIFEST_NAME
    path.write_text(json.dumps(manifest.to_dict(), indent=2) + "\n", encoding="utf-8")
    return path


def read_manifest(set_dir: Path) -> Manifest:
    """Read and check the manifest of the set in ``set_dir``."""
    path = set_dir / MANIFEST_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise BackupError(
            f"{set_dir} is not a backup set: it has no {MANIFEST_NAME}",
            fix="pass the directory of one set (e.g. <dest>/20261123T020000Z)",
        ) from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BackupError(f"{path}: cannot be read as JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise BackupError(f"{path}: not a JSON object")
    try:
        return Manifest.from_dict(data)
    except BackupError as exc:
        raise BackupError(f"{path}: {exc}", fix=exc.fix) from exc


class DatedByManifest:
    """A set's label and creation time, as its manifest records them."""

    manifest: Manifest

    @property
    def label(self) -> str:
        return self.manifest.label

    @property
    def created_at(self) -> datetime:
        return self.manifest.created_at


@dataclass(frozen=True)
class BackupSet(DatedByManifest):
    """A backup set on disk: its directory and its manifest."""

    path: Path
    manifest: Manifest

    @property
    def size(self) -> int:
        """Bytes of the data files (the manifest itself not counted)."""
        return sum(f.size for f in self.manifest.files.values())


def read_backup(set_dir: Path) -> BackupSet:
    """The set in ``set_dir`` with its manifest (files not checked; see :func:`check_files`)."""
    return BackupSet(set_dir, read_manifest(set_dir))
