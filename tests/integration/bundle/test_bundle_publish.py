"""A published DAG bundle is what Airflow's S3DagBundle reads from the object store."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from sluice.bundle.build import build_bundle
from sluice.bundle.publish import CURRENT, publish_bundle
from sluice.storage.objects import ObjectStore


@pytest.fixture
def bucket(stack, settings) -> Iterator[str]:
    """A bucket of this test's own in the stack's object store, removed afterwards."""
    store, name = ObjectStore(settings), f"bundle-test-{uuid.uuid4().hex[:8]}"
    store.ensure_bucket(name)
    yield name
    store.delete_folder(name, "")
    store.client.delete_bucket(Bucket=name)


def test_s3_dag_bundle_reads_every_dag_of_a_published_bundle(
    airflow_env, settings, bucket, tmp_path
):
    from airflow.dag_processing.dagbag import DagBag
    from airflow.providers.amazon.aws.bundles.s3 import S3DagBundle

    archive = build_bundle(settings.project_dir, tmp_path, version="test").path
    publish_bundle(ObjectStore(settings), bucket, archive)
    bundle = S3DagBundle(
        name=f"sluice-s3-{bucket}",
        aws_conn_id="sluice_object_store",
        bucket_name=bucket,
        prefix=CURRENT.rstrip("/"),
    )
    bundle.initialize()
    bag = DagBag(dag_folder=bundle.path, bundle_path=bundle.path, bundle_name=bundle.name)
    checkout = DagBag(dag_folder=settings.project_dir / "dags")
    assert (bag.import_errors, sorted(bag.dag_ids)) == ({}, sorted(checkout.dag_ids))


def test_publishing_drops_the_files_the_new_release_lacks(settings, bucket, tmp_path):
    store = ObjectStore(settings)
    stale = tmp_path / "gone.py"
    stale.write_text("# a DAG file deleted from the repository\n")
    store.put_file(bucket, f"{CURRENT}gone.py", stale)
    archive = build_bundle(settings.project_dir, tmp_path / "dist", version="test").path
    publish_bundle(store, bucket, archive)
    keys = {o.key for o in store.objects(bucket, CURRENT)}
    assert f"{CURRENT}gone.py" not in keys
