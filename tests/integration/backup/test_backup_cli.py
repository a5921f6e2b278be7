"""`sluice backup create / verify / restore / list` as an operator runs them, on the real stack."""

from __future__ import annotations

import json

import pytest

from sluice.storage.postgres import connect
from tests.integration.backup.conftest import PRODUCTS, products_of

pytestmark = [pytest.mark.postgres, pytest.mark.mongo]


def test_create_backs_up_and_verifies_the_real_postgres_database(
    migrated, source, sluice_cli, tmp_path
):
    # The real `sluice` database is only read; MongoDB is the scratch one, as the real
    # raw_items is large enough to take a minute on FerretDB.
    result = sluice_cli(
        "backup",
        "create",
        "--dest",
        str(tmp_path),
        "--label",
        "2026-11-23",
        "--keep-days",
        "7",
        env={"SLUICE_MONGO_URL": source.mongo_url, "SLUICE_BACKUP_BUCKET": source.bucket},
    )

    assert result.returncode == 0, result.stderr
    assert "backup 2026-11-23:" in result.stdout
    assert f"verified s3://{source.bucket}/2026-11-23: restored into scratch" in result.stdout
    assert "pruned: 0 older than 7 days" in result.stdout
    manifest = json.loads((tmp_path / "2026-11-23" / "manifest.json").read_text())
    assert manifest["postgres"]["database"] == "sluice"
    assert manifest["postgres"]["tables"]["public.schema_migrations"]["rows"] >= 7
    assert {"public.products", "public.product_prices", "public.quotes"} <= set(
        manifest["postgres"]["tables"]
    )


def test_an_operator_verifies_restores_and_lists_a_set(source, sluice_cli, tmp_path):
    created = sluice_cli(
        "backup", "create", "--dest", str(tmp_path), "--label", "manual", "--no-verify",
        env=source.env,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    set_dir = tmp_path / "manual"
    # Every table of the database is in the set, however many migrations have made.
    with connect(source.postgres_url) as conn:
        (tables,) = conn.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
        ).fetchone()
    assert tables >= 8

    verified = sluice_cli("backup", "verify", str(set_dir), env=source.env)
    assert verified.returncode == 0, verified.stderr
    assert f"verified {set_dir}: {tables} tables" in verified.stdout

    with connect(source.postgres_url) as conn:
        conn.execute("DELETE FROM products WHERE source = %s", (source.product_source,))
    refused = sluice_cli("backup", "restore", str(set_dir), env=source.env)
    assert refused.returncode != 0
    assert "Replace the tables of PostgreSQL" in refused.stdout
    assert products_of(source) == 0

    restored = sluice_cli("backup", "restore", str(set_dir), "--yes", env=source.env)
    assert restored.returncode == 0, restored.stderr
    assert f"restored manual: {tables} tables" in restored.stdout
    assert products_of(source) == PRODUCTS

    listed = sluice_cli("backup", "list", "--dest", str(tmp_path), env=source.env)
    assert listed.returncode == 0, listed.stderr
    assert "manual" in listed.stdout

    dump = set_dir / "postgres.dump"
    dump.write_bytes(dump.read_bytes() + b"\0")
    damaged = sluice_cli("backup", "verify", str(set_dir), env=source.env)
    assert damaged.returncode == 1
    assert "is damaged" in damaged.stderr
    assert "postgres.dump:" in damaged.stderr
