"""Discovering migration files and checking them against the recorded history (no database)."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sluice.db.migrations import (
    AppliedMigration,
    MigrationError,
    default_sql_dir,
    discover,
    pending_migrations,
)
from sluice.settings import load_settings

CREATE = "CREATE TABLE t{n} (id int);\n"


def write(folder: Path, name: str, text: str | bytes | None = None) -> Path:
    path = folder / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text if text is not None else f"-- {name}\nSELECT 1;\n", encoding="utf-8")
    return path


def applied(migration, *, checksum: str | None = None, name: str | None = None):
    return AppliedMigration(
        migration.version,
        name or migration.name,
        checksum or migration.checksum,
        datetime(2026, 11, 23, 8, 0, tzinfo=UTC),
    )


def test_migrations_are_ordered_by_number_not_by_name(tmp_path):
    for name in (
        "0010_j.sql",
        "0002_b.sql",
        "0001_z.sql",
        *(f"000{n}_x{n}.sql" for n in range(3, 10)),
    ):
        write(tmp_path, name)
    found = discover(tmp_path)
    assert [m.version for m in found] == list(range(1, 11))
    assert found[0].filename == "0001_z.sql"
    assert found[0].name == "z"
    assert found[-1].filename == "0010_j.sql"


def test_files_that_are_not_sql_are_ignored(tmp_path):
    write(tmp_path, "0001_first.sql")
    write(tmp_path, "README.md", "# notes")
    write(tmp_path, "0002_draft.sql.bak")
    (tmp_path / "0003_folder.sql").mkdir()
    assert [m.filename for m in discover(tmp_path)] == ["0001_first.sql"]


def test_an_empty_folder_has_no_migrations(tmp_path):
    assert discover(tmp_path) == []


def test_a_missing_folder_is_named(tmp_path):
    with pytest.raises(MigrationError, match="nowhere does not exist"):
        discover(tmp_path / "nowhere")


@pytest.mark.parametrize(
    "name",
    ["1_short.sql", "0001-dash.sql", "0001_Upper.sql", "00001_five.sql", "0001_.sql", "x.sql"],
)
def test_a_misnamed_sql_file_is_refused_by_name(tmp_path, name):
    write(tmp_path, "0001_good.sql")
    write(tmp_path, name)
    with pytest.raises(MigrationError, match=re.escape("is not named NNNN_name.sql")) as error:
        discover(tmp_path)
    assert name in str(error.value)
    assert error.value.fix


def test_version_zero_is_refused(tmp_path):
    write(tmp_path, "0000_init.sql")
    with pytest.raises(MigrationError, match=re.escape("0000_init.sql: versions start at 0001")):
        discover(tmp_path)


def test_a_duplicate_number_names_both_files(tmp_path):
    write(tmp_path, "0001_a.sql")
    write(tmp_path, "0002_b.sql")
    write(tmp_path, "0002_c.sql")
    with pytest.raises(
        MigrationError, match=r"version 0002 is used by more than one file"
    ) as error:
        discover(tmp_path)
    assert "0002_b.sql, 0002_c.sql" in str(error.value)


def test_a_gap_names_the_missing_number_and_its_neighbours(tmp_path):
    write(tmp_path, "0001_a.sql")
    write(tmp_path, "0002_b.sql")
    write(tmp_path, "0004_d.sql")
    with pytest.raises(MigrationError) as error:
        discover(tmp_path)
    assert "migration 0003 is missing: a gap between 0002_b.sql and 0004_d.sql" in str(error.value)


def test_a_wider_gap_names_the_range(tmp_path):
    write(tmp_path, "0001_a.sql")
    write(tmp_path, "0005_e.sql")
    with pytest.raises(MigrationError, match="migration 0002-0004 is missing"):
        discover(tmp_path)


def test_numbering_starts_at_one(tmp_path):
    write(tmp_path, "0002_b.sql")
    with pytest.raises(
        MigrationError, match=re.escape("migration 0001 is missing: a gap before 0002_b.sql")
    ):
        discover(tmp_path)


def test_every_problem_is_reported_at_once(tmp_path):
    write(tmp_path, "0001_a.sql")
    write(tmp_path, "0001_b.sql")
    write(tmp_path, "0003_c.sql")
    write(tmp_path, "bad.sql")
    with pytest.raises(MigrationError) as error:
        discover(tmp_path)
    message = str(error.value)
    assert "bad.sql is not named" in message
    assert "0001_a.sql, 0001_b.sql" in message
    assert "migration 0002 is missing" in message


def test_empty_and_comment_only_files_are_refused(tmp_path):
    write(tmp_path, "0001_a.sql", "-- nothing yet\n/* still\nnothing */\n")
    with pytest.raises(MigrationError, match=re.escape("0001_a.sql is empty")):
        discover(tmp_path)


def test_a_file_that_is_not_utf8_is_refused(tmp_path):
    write(tmp_path, "0001_a.sql", b"SELECT '\xff';\n")
    with pytest.raises(MigrationError, match=re.escape("0001_a.sql is not UTF-8")):
        discover(tmp_path)


@pytest.mark.parametrize("statement", ["BEGIN;", "commit;", "START TRANSACTION;", "ROLLBACK WORK;"])
def test_a_file_that_controls_its_own_transaction_is_refused(tmp_path, statement):
    write(tmp_path, "0001_a.sql", f"-- header\n{statement}\nCREATE TABLE t (id int);\n")
    with pytest.raises(MigrationError, match=r"0001_a\.sql line 2: .* controls the transaction"):
        discover(tmp_path)


def test_plpgsql_blocks_are_not_mistaken_for_transaction_control(tmp_path):
    body = "DO $$\nBEGIN\n  PERFORM 1;\nEND;\n$$;\n"
    write(tmp_path, "0001_a.sql", body)
    assert discover(tmp_path)[0].sql == body


def test_the_checksum_is_the_sha256_of_the_file_bytes(tmp_path):
    text = "CREATE TABLE t (id int);\r\n-- é\n"
    path = write(tmp_path, "0001_a.sql", text.encode("utf-8"))
    migration = discover(tmp_path)[0]
    assert migration.checksum == hashlib.sha256(path.read_bytes()).hexdigest()
    assert migration.sql == text
    path.write_bytes(text.replace("\r\n", "\n").encode("utf-8"))
    assert discover(tmp_path)[0].checksum != migration.checksum


def test_nothing_applied_means_everything_is_pending(tmp_path):
    for n in (1, 2, 3):
        write(tmp_path, f"000{n}_m{n}.sql", CREATE.format(n=n))
    found = discover(tmp_path)
    assert pending_migrations(found, {}) == found


def test_only_new_files_are_pending(tmp_path):
    for n in (1, 2, 3):
        write(tmp_path, f"000{n}_m{n}.sql", CREATE.format(n=n))
    found = discover(tmp_path)
    history = {m.version: applied(m) for m in found[:2]}
    assert pending_migrations(found, history) == found[2:]
    assert pending_migrations(found, {m.version: applied(m) for m in found}) == []


def test_a_changed_applied_migration_is_refused_naming_version_and_file(tmp_path):
    write(tmp_path, "0001_first.sql", CREATE.format(n=1))
    original = discover(tmp_path)[0]
    write(tmp_path, "0001_first.sql", CREATE.format(n=1) + "CREATE INDEX ON t1 (id);\n")
    with pytest.raises(MigrationError) as error:
        pending_migrations(discover(tmp_path), {1: applied(original)})
    assert "version 0001 (0001_first.sql) changed after it was applied" in str(error.value)
    assert "new migration" in error.value.fix


def test_a_disappeared_applied_migration_is_refused(tmp_path):
    write(tmp_path, "0001_first.sql", CREATE.format(n=1))
    write(tmp_path, "0002_second.sql", CREATE.format(n=2))
    found = discover(tmp_path)
    history = {m.version: applied(m) for m in found}
    with pytest.raises(MigrationError) as error:
        pending_migrations(found[:1], history)
    assert "version 0002 (0002_second.sql) was applied" in str(error.value)
    assert "file is missing" in str(error.value)


def test_a_new_file_numbered_below_an_applied_version_is_refused(tmp_path):
    for n in (1, 2, 3):
        write(tmp_path, f"000{n}_m{n}.sql", CREATE.format(n=n))
    found = discover(tmp_path)
    history = {1: applied(found[0]), 3: applied(found[2])}
    with pytest.raises(
        MigrationError, match=re.escape("0002_m2.sql not applied, but the later version 0003")
    ):
        pending_migrations(found, history)


def test_a_renamed_file_with_the_same_content_is_only_a_warning(tmp_path, caplog):
    write(tmp_path, "0001_new_name.sql", CREATE.format(n=1))
    found = discover(tmp_path)
    with caplog.at_level("WARNING", logger="sluice.db.migrations"):
        assert pending_migrations(found, {1: applied(found[0], name="old_name")}) == []
    assert "applied_as=0001_old_name.sql file=0001_new_name.sql" in caplog.text


def test_the_projects_own_migrations_are_well_formed():
    settings = load_settings()
    found = discover(default_sql_dir(settings))
    assert [m.version for m in found] == list(range(1, len(found) + 1))
    names = {m.name for m in found}
    assert {"products", "quotes", "crawl_runs", "rejected_items", "dq_results", "api_keys"} <= names
