"""Backup sets in the object store (the stack's SeaweedFS): upload, list, restore, prune."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sluice.backup.remote import list_remote_backups, prune_remote_backups
from sluice.storage.objects import ObjectStore
from sluice.storage.postgres import connect
from tests.integration.backup.conftest import PRODUCTS, products_of

pytestmark = [pytest.mark.postgres, pytest.mark.mongo]


def create(sluice_cli, source, tmp_path, label: str):
    result = sluice_cli(
        "backup", "create", "--dest", str(tmp_path), "--label", label, "--no-verify",
        env=source.env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result


def test_a_created_set_is_uploaded_and_listed(source, sluice_cli, settings, tmp_path):
    created = create(sluice_cli, source, tmp_path, "uploaded")
    assert f"uploaded: s3://{source.bucket}/uploaded" in created.stdout
    labels = [s.label for s in list_remote_backups(ObjectStore(settings), source.bucket)]
    assert "uploaded" in labels


def test_a_stored_set_restores_without_the_local_copy(source, sluice_cli, tmp_path):
    create(sluice_cli, source, tmp_path, "from-store")
    (tmp_path / "from-store" / "postgres.dump").unlink()  # only the stored copy is whole
    with connect(source.postgres_url, autocommit=True) as conn:
        conn.execute("DELETE FROM products WHERE source = %s", (source.product_source,))
    restored = sluice_cli(
        "backup", "restore", "--yes", f"s3://{source.bucket}/from-store", env=source.env
    )
    assert restored.returncode == 0, restored.stderr
    assert products_of(source) == PRODUCTS


def test_an_interrupted_upload_is_not_a_set(source, settings, tmp_path):
    store = ObjectStore(settings)
    half = tmp_path / "postgres.dump"
    half.write_bytes(b"PGDMP")
    store.put_file(source.bucket, "half-uploaded/postgres.dump", half)  # no manifest yet
    labels = [s.label for s in list_remote_backups(store, source.bucket)]
    assert "half-uploaded" not in labels


def test_pruning_the_store_keeps_only_the_newest_old_set(source, sluice_cli, settings, tmp_path):
    for label in ("prune-a", "prune-b"):
        create(sluice_cli, source, tmp_path, label)
    store = ObjectStore(settings)
    newest = list_remote_backups(store, source.bucket)[-1].label
    # A week from now every set is older than the 1 day kept, and the newest still stays.
    prune_remote_backups(store, source.bucket, 1, now=datetime.now(UTC) + timedelta(days=7))
    assert [s.label for s in list_remote_backups(store, source.bucket)] == [newest]


def test_an_unreachable_object_store_is_named(source, sluice_cli):
    result = sluice_cli(
        "backup", "list", env={**source.env, "SLUICE_OBJECT_STORE_URL": "http://127.0.0.1:1"}
    )
    assert result.returncode == 1
    assert "http://127.0.0.1:1: listing s3://" in result.stderr
    assert "cannot reach the store" in result.stderr


def test_a_wrong_secret_key_is_named(source, sluice_cli):
    result = sluice_cli(
        "backup", "list", env={**source.env, "SLUICE_OBJECT_STORE_SECRET_KEY": "not-the-key-1"}
    )
    assert result.returncode == 1
    assert "refused (SignatureDoesNotMatch)" in result.stderr
