"""``sluice bundle publish``: a built bundle into the object store, where Airflow reads it.

The archive is kept under ``releases/``; its DAG files and manifest are unpacked under
``current/``, which Airflow's ``S3DagBundle`` (bucket ``SLUICE_BUNDLE_BUCKET``, prefix
``current``) downloads. Files of the previous release that the new one lacks are deleted
after the new files are up, so a DAG removed from the repository disappears from Airflow.
"""

from __future__ import annotations

import json
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sluice.bundle.build import MANIFEST
from sluice.storage.objects import ObjectStore

CURRENT = "current/"
RELEASES = "releases/"


@dataclass(frozen=True)
class PublishedBundle:
    """What was published: the bundle's version and where Airflow reads it."""

    version: str
    uri: str
    files: int
    removed: int


def publish_bundle(store: ObjectStore, bucket: str, archive: Path) -> PublishedBundle:
    """Upload ``archive`` and make its DAG files the bucket's ``current/`` release."""
    with tempfile.TemporaryDirectory(prefix="sluice-bundle-") as scratch:
        unpacked = Path(scratch)
        with tarfile.open(archive, "r:gz") as opened:
            # The "data" filter refuses links and paths that leave the folder.
            opened.extractall(unpacked, filter="data")
        manifest = json.loads((unpacked / MANIFEST).read_text(encoding="utf-8"))
        store.put_file(bucket, f"{RELEASES}{archive.name}", archive)
        keys = store.put_folder(bucket, CURRENT, unpacked / "dags")
        store.put_file(bucket, f"{CURRENT}{MANIFEST}", unpacked / MANIFEST)
    wanted = {*keys, f"{CURRENT}{MANIFEST}"}
    stale = [o.key for o in store.objects(bucket, CURRENT) if o.key not in wanted]
    for key in stale:
        store.delete_folder(bucket, key)
    return PublishedBundle(manifest["version"], f"s3://{bucket}/{CURRENT}", len(keys), len(stale))
