"""Backup sets in the object store: upload, fetch, list and prune, under ``<bucket>/<label>/``.

A set is complete in the store once its ``manifest.json`` is there: the manifest is uploaded
last, so an interrupted upload never looks like a set, and it is what listing and retention
read. ``nightly_backup`` proves the uploaded copy by fetching it and restoring it into scratch
databases; ``sluice backup restore s3://<bucket>/<label>`` restores from it.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sluice.backup.errors import BackupError
from sluice.backup.manifest import MANIFEST_NAME, DatedByManifest, Manifest, check_label
from sluice.backup.retention import expired
from sluice.storage.objects import ObjectStore, ObjectStoreError

log = logging.getLogger(__name__)
SCHEME = "s3://"


@dataclass(frozen=True)
class RemoteSet(DatedByManifest):
    """A complete backup set in the object store."""

    bucket: str
    manifest: Manifest

    @property
    def uri(self) -> str:
        """``s3://<bucket>/<label>``, what ``sluice backup restore`` takes."""
        return f"{SCHEME}{self.bucket}/{self.label}"


def parse_uri(text: str) -> tuple[str, str]:
    """(bucket, label) of ``s3://<bucket>/<label>``; BackupError naming what is wrong."""
    bucket, _, label = text.removeprefix(SCHEME).strip("/").partition("/")
    if not text.startswith(SCHEME) or not bucket or not label or "/" in label:
        raise BackupError(
            f"{text!r} is not a stored backup set", fix="write it as s3://<bucket>/<label>"
        )
    return bucket, check_label(label)


def upload_backup(store: ObjectStore, bucket: str, set_dir: Path) -> str:
    """Upload the set in ``set_dir``, its manifest last; the set's ``s3://`` URI."""
    label = check_label(set_dir.name)
    data = sorted(p for p in set_dir.rglob("*") if p.is_file() and p.name != MANIFEST_NAME)
    try:
        for path in data:
            store.put_file(bucket, f"{label}/{path.relative_to(set_dir).as_posix()}", path)
        store.put_file(bucket, f"{label}/{MANIFEST_NAME}", set_dir / MANIFEST_NAME)
    except ObjectStoreError as exc:
        raise BackupError(f"backup set {label} was not uploaded: {exc}") from exc
    log.info("backup set uploaded label=%s bucket=%s files=%s", label, bucket, len(data) + 1)
    return f"{SCHEME}{bucket}/{label}"


def fetch_backup(store: ObjectStore, uri: str, dest: Path) -> Path:
    """Download the set at ``uri`` into ``dest/<label>``; that directory."""
    bucket, label = parse_uri(uri)
    target = dest / label
    try:
        store.get_folder(bucket, f"{label}/", target)
    except ObjectStoreError as exc:
        raise BackupError(f"backup set {uri} cannot be fetched: {exc}") from exc
    if not (target / MANIFEST_NAME).is_file():
        raise BackupError(f"{uri} has no {MANIFEST_NAME}: an interrupted upload, not a set")
    return target


def list_remote_backups(store: ObjectStore, bucket: str) -> list[RemoteSet]:
    """The complete sets in ``bucket``, oldest first (by their manifests' created_at)."""
    sets = []
    try:
        # One listing finds every set: the manifests one level down.
        manifests = [
            o.key
            for o in store.objects(bucket)
            if o.key.count("/") == 1 and o.key.endswith(f"/{MANIFEST_NAME}")
        ]
        for key in manifests:
            sets.append(RemoteSet(bucket, Manifest.from_dict(json.loads(store.read(bucket, key)))))
    except ObjectStoreError as exc:
        raise BackupError(f"cannot list the backup sets in bucket {bucket}: {exc}") from exc
    return sorted(sets, key=lambda s: (s.created_at, s.label))


def prune_remote_backups(
    store: ObjectStore, bucket: str, keep_days: int, *, now: datetime | None = None
) -> list[str]:
    """Delete the stored sets older than ``keep_days`` (never the newest); their URIs."""
    doomed = expired(list_remote_backups(store, bucket), keep_days, now or datetime.now(UTC))
    for stored in doomed:
        try:
            # The manifest first: a half-deleted set is no longer listed as a set.
            store.delete(bucket, [f"{stored.label}/{MANIFEST_NAME}"])
            store.delete_folder(bucket, f"{stored.label}/")
        except ObjectStoreError as exc:
            raise BackupError(f"cannot delete stored backup set {stored.uri}: {exc}") from exc
        log.info("stored backup set deleted uri=%s", stored.uri)
    return [s.uri for s in doomed]
