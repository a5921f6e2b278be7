"""Backup sets on disk without any database: small pretend files and a real manifest."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sluice.backup.manifest import (
    CollectionEntry,
    ContentStats,
    Manifest,
    MongoPart,
    PostgresPart,
    describe_files,
    write_manifest,
)


def make_set(directory: Path, *, created_at: datetime | None = None) -> Manifest:
    """A set of two small files and a manifest describing them."""
    (directory / "mongo").mkdir(parents=True)
    (directory / "postgres.dump").write_bytes(b"PGDMP pretend dump")
    (directory / "mongo" / "raw_items.bson.gz").write_bytes(b"pretend documents")
    manifest = Manifest(
        label=directory.name,
        created_at=created_at or datetime(2026, 11, 23, 2, 0, tzinfo=UTC),
        postgres=PostgresPart(
            "sluice", "15.18", "postgres.dump", {"public.products": ContentStats(3, "sha256:aa")}
        ),
        mongo=MongoPart(
            "sluice",
            {
                "raw_items": CollectionEntry(
                    "mongo/raw_items.bson.gz",
                    ContentStats(2, "sha256:bb"),
                    [{"name": "crawl_id", "key": [["crawl_id", 1]], "options": {}}],
                )
            },
        ),
        files=describe_files(directory, ["postgres.dump", "mongo/raw_items.bson.gz"]),
    )
    write_manifest(directory, manifest)
    return manifest
