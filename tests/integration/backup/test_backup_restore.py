"""Backup, verify and restore on the real PostgreSQL and FerretDB (scratch databases)."""

from __future__ import annotations

import json

import pytest

from sluice.backup import (
    BackupError,
    create_backup,
    restore_backup,
    table_stats,
    verify_backup,
)
from sluice.backup.manifest import describe_files
from sluice.backup.mongo import collection_names, collection_stats
from sluice.db.mongo_indexes import RAW_ITEMS_INDEXES
from sluice.storage.postgres import connect
from tests.integration.backup.conftest import NOTES, PRODUCTS, RAW_DOCUMENTS

pytestmark = [pytest.mark.postgres, pytest.mark.mongo]


def postgres_stats(source):
    with connect(source.postgres_url, autocommit=True) as conn:
        return table_stats(conn)


def mongo_stats(source):
    db = source.mongo_db
    return {name: collection_stats(db[name]) for name in collection_names(db)}


def leftover_scratch_databases(source, settings):
    """Scratch databases verification made of this source and did not drop."""
    prefix = f"{source.name}_restorecheck_"
    with connect(settings.postgres_url, autocommit=True) as conn:
        postgres = [
            row[0]
            for row in conn.execute(
                "SELECT datname FROM pg_database WHERE starts_with(datname, %s)", (prefix,)
            )
        ]
    mongo = [n for n in source.mongo_db.client.list_database_names() if n.startswith(prefix)]
    return postgres + mongo


def backup(source, settings, directory):
    return create_backup(
        directory,
        postgres_url=source.postgres_url,
        mongo_db=source.mongo_db,
        pg_bindir=settings.pg_bindir,
    )


def verify(source, settings, set_dir):
    return verify_backup(
        set_dir,
        postgres_url=source.postgres_url,
        mongo_client=source.mongo_db.client,
        pg_bindir=settings.pg_bindir,
    )


def test_backup_drop_restore_gives_back_equal_content(source, settings, tmp_path):
    before_pg, before_mongo = postgres_stats(source), mongo_stats(source)

    created = backup(source, settings, tmp_path)
    report = verify(source, settings, created.path)

    manifest = created.manifest
    assert manifest.postgres.tables == before_pg
    assert manifest.mongo.collections_stats() == before_mongo
    assert manifest.postgres.tables["public.products"].count == PRODUCTS
    assert manifest.postgres.tables["public.product_prices"].count == 2 * PRODUCTS
    assert manifest.mongo.collections["raw_items"].stats.count == RAW_DOCUMENTS
    assert (report.tables, report.collections) == (len(before_pg), 2)
    assert leftover_scratch_databases(source, settings) == []

    with connect(source.postgres_url) as conn:
        conn.execute("DELETE FROM products WHERE source = %s", (source.product_source,))
        conn.execute("DROP TABLE quotes")
    source.mongo_db.raw_items.delete_many({"source": source.product_source})
    source.mongo_db.drop_collection("notes")
    assert postgres_stats(source) != before_pg

    restore_backup(
        created.path,
        postgres_url=source.postgres_url,
        mongo_db=source.mongo_db,
        pg_bindir=settings.pg_bindir,
    )

    assert postgres_stats(source) == before_pg
    assert mongo_stats(source) == before_mongo
    # The same, counted without the backup package's own code:
    with connect(source.postgres_url, autocommit=True) as conn:
        restored = conn.execute(
            "SELECT count(*), min(name) FROM products WHERE source = %s", (source.product_source,)
        ).fetchone()
        assert restored == (PRODUCTS, "Widget 0\twith\nnewline \\ and ü")
        assert conn.execute("SELECT count(*) FROM quotes").fetchone()[0] == 10
        payload = conn.execute("SELECT payload FROM rejected_items").fetchone()[0]
        assert bytes(payload) == b"\xff\xfe not utf-8 \x00\n"
    db = source.mongo_db
    assert db.raw_items.count_documents({"source": source.product_source}) == RAW_DOCUMENTS
    assert db.notes.count_documents({}) == NOTES
    index_names = {index["name"] for index in db.raw_items.list_indexes()}
    assert {spec.name for spec in RAW_ITEMS_INDEXES} <= index_names
    assert "text_1" in {index["name"] for index in db.notes.list_indexes()}
    assert sorted(db.list_collection_names()) == ["notes", "raw_items"]


def test_verify_fails_naming_a_corrupted_file(source, settings, tmp_path):
    created = backup(source, settings, tmp_path)
    damaged = created.path / "mongo" / "raw_items.bson.gz"
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))

    with pytest.raises(BackupError) as caught:
        verify(source, settings, created.path)

    assert "mongo/raw_items.bson.gz: sha256" in str(caught.value)
    assert "postgres.dump" not in str(caught.value)


def test_verify_names_each_table_and_collection_that_does_not_restore_as_recorded(
    source, settings, tmp_path
):
    created = backup(source, settings, tmp_path)
    path = created.path / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["postgres"]["tables"]["public.products"]["rows"] = PRODUCTS + 1
    manifest["mongo"]["collections"]["notes"]["checksum"] = "sha256:0"
    path.write_text(json.dumps(manifest))

    with pytest.raises(BackupError) as caught:
        verify(source, settings, created.path)

    message = str(caught.value)
    assert f"table public.products: rows expected {PRODUCTS + 1}, got {PRODUCTS}" in message
    assert "collection notes: content checksum expected sha256:0, got sha256:" in message
    assert "raw_items" not in message
    assert leftover_scratch_databases(source, settings) == []


def test_a_dump_that_does_not_restore_fails_verification(source, settings, tmp_path):
    created = backup(source, settings, tmp_path)
    # A dump cut short, with a manifest that agrees: only restoring it can find out.
    dump = created.path / "postgres.dump"
    dump.write_bytes(dump.read_bytes()[: dump.stat().st_size // 2])
    path = created.path / "manifest.json"
    manifest = json.loads(path.read_text())
    entry = describe_files(created.path, ["postgres.dump"])["postgres.dump"]
    manifest["files"]["postgres.dump"] = {"bytes": entry.size, "sha256": entry.sha256}
    path.write_text(json.dumps(manifest))

    with pytest.raises(BackupError, match="pg_restore exited 1") as caught:
        verify(source, settings, created.path)

    assert "postgres: restoring into" in str(caught.value)
    assert leftover_scratch_databases(source, settings) == []
