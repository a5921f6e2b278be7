"""Gzipped BSON dump files: what goes in comes out byte for byte, counted and digested."""

from __future__ import annotations

import gzip
import hashlib
from datetime import UTC, datetime

import bson
import pytest

from sluice.backup.bsonfile import count_documents, iter_batches, iter_documents, write_batches
from sluice.backup.errors import BackupError

DOCUMENTS = [
    bson.encode({"_id": f"k{i}", "n": i, "at": datetime(2026, 11, 23, tzinfo=UTC), "b": b"\0"})
    for i in range(25)
]


def batches(size: int) -> list[bytes]:
    return [b"".join(DOCUMENTS[i : i + size]) for i in range(0, len(DOCUMENTS), size)]


def test_documents_come_back_byte_for_byte(tmp_path):
    path = tmp_path / "c.bson.gz"

    write_batches(batches(10), path)

    assert list(iter_documents(path)) == DOCUMENTS


def test_stats_count_documents_and_digest_their_bytes_whatever_the_batching(tmp_path):
    expected = f"sha256:{hashlib.sha256(b''.join(DOCUMENTS)).hexdigest()}"

    one = write_batches(batches(1), tmp_path / "one.bson.gz")
    seven = write_batches(batches(7), tmp_path / "seven.bson.gz")

    assert one.count == seven.count == 25
    assert one.checksum == seven.checksum == expected


def test_an_empty_collection_gives_an_empty_file(tmp_path):
    stats = write_batches([], tmp_path / "e.bson.gz")

    assert stats.count == 0
    assert list(iter_documents(tmp_path / "e.bson.gz")) == []


def test_the_same_documents_give_the_same_file(tmp_path):
    write_batches(batches(5), tmp_path / "a.bson.gz")
    write_batches(batches(5), tmp_path / "b.bson.gz")

    assert (tmp_path / "a.bson.gz").read_bytes() == (tmp_path / "b.bson.gz").read_bytes()


def test_insert_batches_respect_both_limits(tmp_path):
    path = tmp_path / "c.bson.gz"
    write_batches(batches(25), path)

    by_count = [len(b) for b in iter_batches(path, max_documents=10)]
    by_size = [len(b) for b in iter_batches(path, max_bytes=len(DOCUMENTS[0]) * 4)]

    assert by_count == [10, 10, 5]
    assert by_size == [4, 4, 4, 4, 4, 4, 1]
    assert next(iter_batches(path))[0].raw == DOCUMENTS[0]


def test_a_truncated_file_is_reported_not_half_read(tmp_path):
    path = tmp_path / "c.bson.gz"
    path.write_bytes(gzip.compress(b"".join(DOCUMENTS)[:-3]))

    with pytest.raises(BackupError, match="truncated or malformed BSON"):
        list(iter_documents(path))


def test_a_file_that_is_not_gzip_is_reported(tmp_path):
    path = tmp_path / "c.bson.gz"
    path.write_bytes(b"not gzip at all")

    with pytest.raises(BackupError, match="cannot be decompressed"):
        list(iter_documents(path))


def test_a_cut_batch_is_refused():
    with pytest.raises(BackupError, match="malformed BSON at byte"):
        count_documents(DOCUMENTS[0] + DOCUMENTS[1][:-1])
