"""``sluice bundle publish``: a built bundle into the object store, where Airflow reads it.

The layout is the one the chart's ``S3DagBundle`` reads and the ``dag-bundle`` workflow
writes: the archive is kept under ``sluice-dags/bundles/``, never overwritten; its DAG files
and manifest are unpacked under a prefix (``sluice-dags/current`` for production,
``sluice-dags/staging`` for staging). Files the new release lacks are deleted after the new
files are up, so a DAG removed from the repository disappears from Airflow.
"""

from __future__ import annotations

import json
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sluice.bundle.build import MANIFEST
from sluice.storage.objects import ObjectStore

CURRENT = "sluice-dags/current/"
RELEASES = "sluice-dags/bundles/"


@dataclass(frozen=True)
class PublishedBundle:
    """What was published: the bundle's version and where Airflow reads it."""

    version: str
    uri: str
    files: int
    removed: int


def publish_bundle(
    store: ObjectStore, bucket: str, archive: Path, prefix: str = CURRENT
) -> PublishedBundle:
    """Upload ``archive`` and make its DAG files the release under ``prefix``."""
    prefix = prefix.rstrip("/") + "/"
    with tempfile.TemporaryDirectory(prefix="sluice-bundle-") as scratch:
        unpacked = Path(scratch)
        with tarfile.open(archive, "r:gz") as opened:
            # The "data" filter refuses links and paths that leave the folder.
            opened.extractall(unpacked, filter="data")
        manifest = json.loads((unpacked / MANIFEST).read_text(encoding="utf-8"))
        store.put_file(bucket, f"{RELEASES}{archive.name}", archive)
        keys = store.put_folder(bucket, prefix, unpacked / "dags")
        store.put_file(bucket, f"{prefix}{MANIFEST}", unpacked / MANIFEST)
    wanted = {*keys, f"{prefix}{MANIFEST}"}
    stale = [o.key for o in store.objects(bucket, prefix) if o.key not in wanted]
    store.delete(bucket, stale)
    return PublishedBundle(manifest["version"], f"s3://{bucket}/{prefix}", len(keys), len(stale))
