"""Gzipped BSON files: documents written back to back, the format ``mongodump`` uses.

Documents travel as raw BSON bytes from the server to the file and back, never decoded into
Python objects, so nothing (time zones, integer widths, field order) can change on the way; the
content checksum of a collection is the SHA-256 of those bytes in ``_id`` order.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Iterable, Iterator
from pathlib import Path

from bson.raw_bson import RawBSONDocument

from sluice.backup.errors import BackupError
from sluice.backup.manifest import ContentStats

#: a BSON document starts with its total length as a little-endian int32 (at least 5 bytes)
_LENGTH_BYTES = 4
_MIN_DOCUMENT = 5
# A level that compresses JSON-like documents well without making a nightly dump CPU-bound.
_COMPRESSLEVEL = 6


class DigestingCounter:
    """Counts BSON documents and digests their bytes, fed with concatenated batches."""

    def __init__(self) -> None:
        self.count = 0
        self._digest = hashlib.sha256()

    def update(self, batch: bytes) -> None:
        """Add a batch of whole documents; a malformed batch raises :class:`BackupError`."""
        self.count += count_documents(batch)
        self._digest.update(batch)

    @property
    def stats(self) -> ContentStats:
        return ContentStats(self.count, f"sha256:{self._digest.hexdigest()}")


def count_documents(batch: bytes) -> int:
    """The number of whole BSON documents in ``batch``; raises if one is cut short."""
    offset = count = 0
    while offset < len(batch):
        length = int.from_bytes(batch[offset : offset + _LENGTH_BYTES], "little", signed=True)
        if length < _MIN_DOCUMENT or offset + length > len(batch):
            raise BackupError(f"malformed BSON at byte {offset}: document length {length}")
        offset += length
        count += 1
    return count


def write_batches(batches: Iterable[bytes], path: Path) -> ContentStats:
    """Write raw BSON batches (as ``find_raw_batches`` yields them) gzipped to ``path``.

    Returns the number of documents and the checksum of their bytes, computed from exactly
    what was written.
    """
    counter = DigestingCounter()
    path.parent.mkdir(parents=True, exist_ok=True)
    # No name, no time in the gzip header: the same documents give the same file.
    with (
        path.open("wb") as raw,
        gzip.GzipFile(
            filename="", fileobj=raw, mode="wb", compresslevel=_COMPRESSLEVEL, mtime=0
        ) as out,
    ):
        for batch in batches:
            counter.update(batch)
            out.write(batch)
    return counter.stats


def iter_documents(path: Path) -> Iterator[bytes]:
    """The raw bytes of each document of a file written by :func:`write_batches`."""
    try:
        with gzip.open(path, "rb") as stream:
            offset = 0
            while header := stream.read(_LENGTH_BYTES):
                length = int.from_bytes(header, "little", signed=True)
                body = stream.read(length - _LENGTH_BYTES) if length >= _MIN_DOCUMENT else b""
                if length < _MIN_DOCUMENT or len(header) + len(body) != length:
                    raise BackupError(
                        f"{path}: truncated or malformed BSON at byte {offset} "
                        f"(document length {length})"
                    )
                yield header + body
                offset += length
    except (OSError, EOFError) as exc:
        # gzip raises BadGzipFile (an OSError) or EOFError for a damaged stream.
        raise BackupError(f"{path}: cannot be decompressed: {exc}") from exc


def iter_batches(
    path: Path, *, max_documents: int = 1000, max_bytes: int = 8 << 20
) -> Iterator[list[RawBSONDocument]]:
    """The documents of ``path`` in batches small enough for one ``insert_many`` message."""
    batch: list[RawBSONDocument] = []
    size = 0
    for document in iter_documents(path):
        batch.append(RawBSONDocument(document))
        size += len(document)
        if len(batch) >= max_documents or size >= max_bytes:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch
