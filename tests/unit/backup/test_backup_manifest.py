"""The manifest of a backup set: its JSON form, file digests, and comparing restored content."""

from __future__ import annotations

import hashlib
import json

import pytest

from sluice.backup.errors import BackupError
from sluice.backup.manifest import (
    MANIFEST_NAME,
    ContentStats,
    check_files,
    check_label,
    collection_file,
    compare_stats,
    read_manifest,
)
from tests.unit.backup.fake_sets import make_set


def test_the_manifest_records_size_and_sha256_of_each_file(tmp_path):
    manifest = make_set(tmp_path / "20261123T020000Z")

    entry = manifest.files["postgres.dump"]
    assert entry.size == len(b"PGDMP pretend dump")
    assert entry.sha256 == hashlib.sha256(b"PGDMP pretend dump").hexdigest()


def test_a_written_manifest_reads_back_equal(tmp_path):
    written = make_set(tmp_path / "20261123T020000Z")

    assert read_manifest(tmp_path / "20261123T020000Z") == written


def test_the_json_names_rows_documents_and_digests(tmp_path):
    make_set(tmp_path / "s")

    data = json.loads((tmp_path / "s" / MANIFEST_NAME).read_text())

    assert data["format"] == "sluice-backup"
    assert data["version"] == 1
    assert data["created_at"] == "2026-11-23T02:00:00Z"
    assert data["postgres"]["tables"]["public.products"] == {"rows": 3, "checksum": "sha256:aa"}
    assert data["mongo"]["collections"]["raw_items"]["documents"] == 2
    assert set(data["files"]) == {"postgres.dump", "mongo/raw_items.bson.gz"}


def test_an_intact_set_passes_the_file_check(tmp_path):
    manifest = make_set(tmp_path / "s")

    check_files(tmp_path / "s", manifest)


def test_a_corrupted_file_fails_the_check_naming_it(tmp_path):
    manifest = make_set(tmp_path / "s")
    (tmp_path / "s" / "mongo" / "raw_items.bson.gz").write_bytes(b"pretend d0cuments")

    with pytest.raises(BackupError) as caught:
        check_files(tmp_path / "s", manifest)

    assert "mongo/raw_items.bson.gz: sha256" in str(caught.value)
    assert "postgres.dump" not in str(caught.value)


def test_missing_and_truncated_files_are_both_named(tmp_path):
    manifest = make_set(tmp_path / "s")
    (tmp_path / "s" / "postgres.dump").unlink()
    (tmp_path / "s" / "mongo" / "raw_items.bson.gz").write_bytes(b"pretend")

    with pytest.raises(BackupError) as caught:
        check_files(tmp_path / "s", manifest)

    assert "postgres.dump: missing" in str(caught.value)
    assert "mongo/raw_items.bson.gz: 7 bytes, the manifest says 17" in str(caught.value)


def test_a_directory_without_manifest_is_not_a_set(tmp_path):
    with pytest.raises(BackupError, match=r"has no manifest\.json"):
        read_manifest(tmp_path)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.pop("postgres"), "field 'postgres' is missing"),
        (lambda d: d.update(version=2), "version 2 is not supported"),
        (lambda d: d.update(format="other"), "format is 'other'"),
        (lambda d: d["files"].pop("postgres.dump"), "referenced but has no sha256"),
        (lambda d: d["files"].update({"../etc/passwd": {"bytes": 1, "sha256": "x"}}), "outside"),
        (lambda d: d.update(created_at="2026-11-23T02:00:00"), "no time zone"),
    ],
)
def test_a_malformed_manifest_is_refused_with_the_reason(tmp_path, edit, message):
    make_set(tmp_path / "s")
    path = tmp_path / "s" / MANIFEST_NAME
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))

    with pytest.raises(BackupError, match=message):
        read_manifest(tmp_path / "s")


def test_equal_content_has_no_differences():
    stats = {"public.products": ContentStats(3, "sha256:aa")}

    assert compare_stats(stats, dict(stats), kind="table", unit="rows") == []


def test_differences_name_the_table_with_expected_and_got():
    expected = {
        "public.products": ContentStats(3, "sha256:aa"),
        "public.quotes": ContentStats(5, "sha256:bb"),
        "public.crawl_runs": ContentStats(1, "sha256:cc"),
    }
    actual = {
        "public.products": ContentStats(2, "sha256:xx"),
        "public.quotes": ContentStats(5, "sha256:zz"),
        "public.extra": ContentStats(0, "sha256:ee"),
    }

    problems = compare_stats(expected, actual, kind="table", unit="rows")

    assert problems == [
        "table public.crawl_runs: missing after restore (expected 1 rows)",
        "table public.extra: not in the backup (0 rows restored)",
        "table public.products: rows expected 3, got 2",
        "table public.quotes: content checksum expected sha256:bb, got sha256:zz",
    ]


def test_objects_created_after_the_backup_can_be_ignored():
    expected = {"raw_items": ContentStats(2, "sha256:aa")}
    actual = {"raw_items": ContentStats(2, "sha256:aa"), "newer": ContentStats(9, "sha256:bb")}

    assert (
        compare_stats(expected, actual, kind="collection", unit="documents", ignore_extra=True)
        == []
    )


@pytest.mark.parametrize("label", ["2026-11-23", "20261123T020000Z", "manual_1"])
def test_plain_labels_are_accepted(label):
    assert check_label(label) == label


@pytest.mark.parametrize("label", ["", ".hidden", "../up", "a/b", "a b"])
def test_labels_that_are_not_plain_directory_names_are_refused(label):
    with pytest.raises(BackupError, match="not a plain directory name"):
        check_label(label)


def test_collection_files_are_safe_file_names():
    assert collection_file("raw_items") == "mongo/raw_items.bson.gz"
    assert collection_file("a/b c") == "mongo/a%2Fb%20c.bson.gz"
