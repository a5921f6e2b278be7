"""The raw archiver: every envelope as received, valid or not, into MongoDB ``raw_items``.

A document's ``_id`` is the SHA-256 of the message bytes, and documents are inserted only if
absent, so replaying any range of the topic inserts nothing twice and two identical messages
(a spider retry) are stored once. Messages that are not JSON, or not UTF-8, are archived too,
as raw bytes with the decoding error — this is the record of what arrived.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import pymongo
from bson import Binary
from confluent_kafka import Message
from pymongo.errors import BulkWriteError, PyMongoError

from processors.base import Batch, Handler, Origin, Rejection, Sink, SinkUnavailable

COLLECTION = "raw_items"
#: MongoDB refuses documents over 16 MiB; such a message is dead-lettered instead
MAX_DOCUMENT_BYTES = 15 * 1024 * 1024
DUPLICATE_KEY = 11000


def raw_document(message: Message) -> dict[str, Any]:
    """The archived form of one consumed message."""
    return document_for(message.value() or b"", Origin.of(message))


def document_for(value: bytes, origin: Origin) -> dict[str, Any]:
    """The archived form of ``value`` read at ``origin``."""
    doc: dict[str, Any] = {
        "_id": hashlib.sha256(value).hexdigest(),
        "topic": origin.topic,
        "partition": origin.partition,
        "offset": origin.offset,
        "key": (origin.key or b"").decode("utf-8", "replace"),
        "received_at": datetime.now(UTC),
    }
    try:
        envelope = json.loads(value.decode("utf-8"))
    except UnicodeDecodeError as exc:
        return {**doc, "raw": Binary(value), "decode_error": f"invalid UTF-8: {exc}"}
    except json.JSONDecodeError as exc:
        return {**doc, "raw": Binary(value), "decode_error": f"invalid JSON: {exc}"}
    if not isinstance(envelope, dict):
        return {**doc, "raw": Binary(value), "decode_error": "not a JSON object"}
    item = envelope.get("item") if isinstance(envelope.get("item"), dict) else {}
    return {
        **doc,
        "envelope": envelope,
        "schema": envelope.get("schema"),
        "crawl_id": envelope.get("crawl_id"),
        "source": envelope.get("source"),
        "external_id": item.get("external_id") or item.get("symbol"),
        "fetched_at": _timestamp(envelope.get("fetched_at")),
    }


def _timestamp(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class ArchiveHandler(Handler):
    """Every message becomes a document; only an oversized one is refused."""

    stage = "archive"

    def handle(self, message: Message, batch: Batch) -> None:
        value = message.value() or b""
        if len(value) > MAX_DOCUMENT_BYTES:
            batch.rejections.append(
                Rejection(
                    origin=Origin.of(message),
                    stage=self.stage,
                    reason="too_large",
                    error=f"{len(value)} bytes is more than MongoDB stores in one document",
                    payload=value,
                )
            )
            return
        batch.records.append(raw_document(message))


class MongoSink(Sink):
    """Inserts documents that are not there yet (unordered, so one failure stops nothing)."""

    def __init__(self, client: pymongo.MongoClient, database: str) -> None:
        self.client = client
        self.collection = client[database][COLLECTION]

    def write(self, batch: Batch) -> None:
        if not batch.records:
            return
        try:
            self.collection.insert_many(batch.records, ordered=False)
        except BulkWriteError as exc:
            others = [
                e for e in exc.details.get("writeErrors", []) if e.get("code") != DUPLICATE_KEY
            ]
            if others:
                raise SinkUnavailable(
                    f"MongoDB refused {len(others)} documents: {others[0]}"
                ) from exc
        except PyMongoError as exc:
            raise SinkUnavailable(f"MongoDB: {exc}") from exc

    def close(self) -> None:
        self.client.close()
