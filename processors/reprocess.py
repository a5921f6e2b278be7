"""Rebuilding processed rows from the raw archive (the ``reprocess_raw`` DAG, `sluice reprocess`).

MongoDB ``raw_items`` keeps every envelope as it arrived. :func:`reprocess` reads the documents
whose ``fetched_at`` lies in ``[start, end)`` and sends each stored envelope through the
normalizer's own :class:`~processors.normalizer.NormalizeHandler` and
:class:`~processors.normalizer.PostgresSink`, batch by batch. The rows are therefore the ones
the Kafka path writes, a refused envelope is recorded in ``rejected_items`` under the
(topic, partition, offset) the archiver noted, and since every write is an idempotent upsert,
running an interval again — or overlapping intervals, in any order — changes no row.

Nothing is published to Kafka: each rejection went to the dead-letter topic when the message
first arrived, and a rerun must not add copies there.

Only dated envelopes can be selected: a document the archiver could not decode has no
``fetched_at`` (nor source or schema), so no interval holds it. Documents without a usable
envelope or origin that do match (written by other tools) are skipped and counted.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import psycopg
from pymongo import ASCENDING
from pymongo.collection import Collection
from pymongo.errors import CursorNotFound, PyMongoError

from processors.base import Batch, Origin, Rejection, Sink, SinkUnavailable
from processors.normalizer import NormalizeHandler, PostgresSink
from sluice.schemas.envelope import encode
from sluice.settings import Settings

log = logging.getLogger(__name__)

COLLECTION = "raw_items"
#: oldest observation first, so price history is rebuilt in the order the stream built it
#: (``product_prices`` compares each observation with the one stored before it); ``_id``
#: breaks ties, so every run cuts the same batches
ORDER = [("fetched_at", ASCENDING), ("_id", ASCENDING)]
#: what a rebuild reads; ``raw`` (undecodable bytes, up to 15 MiB) stays on the server
PROJECTION = {
    "topic": 1,
    "partition": 1,
    "offset": 1,
    "key": 1,
    "fetched_at": 1,
    "envelope": 1,
    "decode_error": 1,
}
#: how often a read reopens after the server dropped its cursor (e.g. an idle timeout)
MAX_RESUMES = 3
#: the MongoDB-wire server of the native stack scans for most queries: allow for it
MONGO_TIMEOUT = 120.0

#: the byte forms an envelope may have arrived in: the spiders' compact wire form, then
#: Python's default ``json.dumps`` (tools and tests). Tried in order against the document's
#: content hash, so a rejection keeps the exact bytes that were received whenever possible.
ENCODINGS: tuple[Callable[[dict[str, Any]], bytes], ...] = (
    encode,
    lambda envelope: json.dumps(envelope, default=str).encode(),
)


class ReprocessError(Exception):
    """Reprocessing stopped: the message says where, and rerunning the interval is safe."""


@dataclass
class ReprocessStats:
    """What one :func:`reprocess` run did.

    ``read`` counts raw documents; ``written`` counts records handed to the store (an upsert
    that finds its row up to date counts too, but changes nothing); ``rejected`` counts
    envelopes refused by validation or by the database; ``skipped`` counts documents with
    nothing to rebuild from (``decode_error``, no envelope, no origin); ``reencoded`` counts
    envelopes whose received bytes could not be reproduced (their rejection payload is an
    equivalent JSON encoding).
    """

    read: int = 0
    written: int = 0
    rejected: int = 0
    skipped: int = 0
    batches: int = 0
    reencoded: int = 0
    rejections_by_reason: dict[str, int] = field(default_factory=dict)
    skipped_by_reason: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The figures as plain JSON-ready data."""
        return asdict(self)


def interval_query(
    start: datetime, end: datetime, *, schema: str | None = None, source: str | None = None
) -> dict[str, Any]:
    """The ``raw_items`` filter for envelopes fetched in ``[start, end)``, optionally narrowed
    to one item schema (``product/1``) and one source.

    Raises ValueError for a naive moment (ambiguous) or an end before the start.
    """
    for name, moment in (("start", start), ("end", end)):
        if not isinstance(moment, datetime):
            raise ValueError(f"{name} must be a datetime, not {type(moment).__name__}")
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"{name}={moment.isoformat()} has no time zone; give it in UTC")
    if end < start:
        raise ValueError(
            f"the interval ends ({end.isoformat()}) before it starts ({start.isoformat()})"
        )
    query: dict[str, Any] = {"fetched_at": {"$gte": start, "$lt": end}}
    if schema is not None:
        query["schema"] = schema
    if source is not None:
        query["source"] = source
    return query


def after(fetched_at: datetime, doc_id: Any) -> dict[str, Any]:
    """The filter for documents that come after (``fetched_at``, ``doc_id``) in :data:`ORDER`."""
    return {
        "$or": [
            {"fetched_at": {"$gt": fetched_at}},
            {"fetched_at": fetched_at, "_id": {"$gt": doc_id}},
        ]
    }


def read_documents(
    raw_items: Collection, query: dict[str, Any], batch_size: int
) -> Iterator[dict[str, Any]]:
    """The documents matching ``query`` in :data:`ORDER`, with one server-side cursor.

    One cursor, not a query per batch: the MongoDB-wire server of the native stack answers
    each query with a scan. Should the server drop the cursor between batches, reading
    resumes after the last document handed out, at most :data:`MAX_RESUMES` times.
    """
    last: tuple[datetime, Any] | None = None
    resumes = 0
    while True:
        current = query if last is None else {"$and": [query, after(*last)]}
        cursor = raw_items.find(current, PROJECTION, sort=ORDER, batch_size=batch_size)
        try:
            for doc in cursor:
                last = (doc["fetched_at"], doc["_id"])
                yield doc
            return
        except CursorNotFound as exc:
            resumes += 1
            if resumes > MAX_RESUMES:
                raise ReprocessError(
                    f"MongoDB {raw_items.full_name} dropped the cursor {resumes} times "
                    f"(last read: {last}): {exc}"
                ) from exc
            log.warning("reprocess cursor lost after %s; resuming (%s)", last, exc)
        except PyMongoError as exc:
            raise ReprocessError(
                f"MongoDB {raw_items.full_name}: reading {json.dumps(query, default=str)} "
                f"failed (last read: {last}): {_first_line(exc)}"
            ) from exc
        finally:
            cursor.close()


def origin_of(doc: dict[str, Any]) -> Origin | None:
    """Where the archived message was read (None when the document does not say)."""
    try:
        topic, partition, offset = doc["topic"], int(doc["partition"]), int(doc["offset"])
    except (KeyError, TypeError, ValueError):
        return None
    if not isinstance(topic, str) or not topic:
        return None
    # The archiver stores the key as text, with no key as "".
    key = doc.get("key")
    return Origin(topic, partition, offset, key.encode() if isinstance(key, str) and key else None)


def original_bytes(doc: dict[str, Any]) -> tuple[bytes, bool]:
    """The message bytes of an archived envelope, and whether they are exactly those received.

    The archive keeps the parsed envelope, and its ``_id`` is the SHA-256 of the bytes; the
    first of :data:`ENCODINGS` that hashes to ``_id`` is the original, else the spiders' wire
    form stands in.
    """
    envelope = doc["envelope"]
    candidates = [encoding(envelope) for encoding in ENCODINGS]
    for value in candidates:
        if hashlib.sha256(value).hexdigest() == doc.get("_id"):
            return value, True
    return candidates[0], False


def skip_reason(doc: dict[str, Any]) -> str | None:
    """Why ``doc`` cannot be rebuilt (None when it can)."""
    if "decode_error" in doc:
        return "decode_error"
    if not isinstance(doc.get("envelope"), dict):
        return "no_envelope"
    if origin_of(doc) is None:
        return "no_origin"
    return None


def reprocess(
    raw_items: Collection,
    sink: Sink | Callable[[], psycopg.Connection],
    start: datetime,
    end: datetime,
    *,
    batch_size: int = 500,
    schema: str | None = None,
    source: str | None = None,
) -> ReprocessStats:
    """Rebuild the PostgreSQL rows of the envelopes fetched in ``[start, end)``.

    ``raw_items`` is the archive collection; ``sink`` is the normalizer's sink (left open;
    pass a :class:`PostgresSink` with ``after_commit`` to bump the API's data versions) or a
    factory of autocommit psycopg connections (a sink is built on it and closed at the end).
    ``schema`` and ``source`` narrow the documents read. Idempotent: a rerun changes no row.

    Raises ValueError for a bad interval and :class:`ReprocessError` when MongoDB or
    PostgreSQL fail; batches stored before the failure stay stored.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, not {batch_size}")
    query = interval_query(start, end, schema=schema, source=source)
    stats = ReprocessStats()
    if start == end:
        # Airflow gives manual runs of unscheduled DAGs an empty interval; spare the scan.
        log.info("reprocess: empty interval at %s, nothing to read", start.isoformat())
        return stats
    owned = not isinstance(sink, Sink)
    store = PostgresSink(sink) if owned else sink
    handler = NormalizeHandler()
    try:
        for documents in _chunks(read_documents(raw_items, query, batch_size), batch_size):
            batch = Batch()
            for doc in documents:
                _feed(handler, doc, batch, stats)
            _store(store, batch, stats, documents[-1])
    finally:
        if owned:
            store.close()
    log.info(
        "reprocess [%s, %s) schema=%s source=%s: read=%d written=%d rejected=%d skipped=%d",
        start.isoformat(),
        end.isoformat(),
        schema,
        source,
        stats.read,
        stats.written,
        stats.rejected,
        stats.skipped,
    )
    return stats


def reprocess_with_settings(
    settings: Settings,
    start: datetime,
    end: datetime,
    *,
    batch_size: int = 500,
    schema: str | None = None,
    source: str | None = None,
) -> ReprocessStats:
    """:func:`reprocess` on the stores ``settings`` name, as the normalizer uses them (the
    writer role; data versions bumped after each batch so API caches see the rebuilt rows)."""
    from processors.app import mongo_database, normalizer_sink
    from sluice.storage import mongo

    sink = normalizer_sink(settings)
    with mongo.client(settings.mongo_url, timeout=MONGO_TIMEOUT) as client:
        try:
            return reprocess(
                client[mongo_database(settings)][COLLECTION],
                sink,
                start,
                end,
                batch_size=batch_size,
                schema=schema,
                source=source,
            )
        finally:
            sink.close()


def _first_line(exc: Exception) -> str:
    # pymongo appends a long topology description to server-selection errors.
    text = str(exc).split(", Timeout:")[0].split(", full error:")[0].strip()
    return (text.splitlines() or [repr(exc)])[0][:300]


def _chunks(documents: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for doc in documents:
        chunk.append(doc)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _feed(
    handler: NormalizeHandler, doc: dict[str, Any], batch: Batch, stats: ReprocessStats
) -> None:
    """Append ``doc``'s record or rejection to ``batch``, or count it as skipped."""
    stats.read += 1
    reason = skip_reason(doc)
    origin = origin_of(doc)
    if reason is not None or origin is None:
        reason = reason or "no_origin"
        stats.skipped += 1
        stats.skipped_by_reason[reason] = stats.skipped_by_reason.get(reason, 0) + 1
        return
    value, exact = original_bytes(doc)
    if not exact:
        stats.reencoded += 1
    try:
        handler.handle_value(value, origin, batch)
    except Exception as exc:  # as on the Kafka path: a handler bug rejects, never stops
        log.exception("handler failed on raw item %s (%s)", doc.get("_id"), origin)
        batch.rejections.append(
            Rejection(
                origin=origin,
                stage=handler.stage,
                reason=f"handler_error/{type(exc).__name__}",
                error=str(exc)[:2000],
                payload=value,
            )
        )


def _store(store: Sink, batch: Batch, stats: ReprocessStats, last: dict[str, Any]) -> None:
    """Write one batch durably, then let the sink announce it (cache versions)."""
    if batch.records or batch.rejections:
        try:
            store.write(batch)
        except SinkUnavailable as exc:
            raise ReprocessError(
                f"batch {stats.batches + 1} (raw items up to fetched_at="
                f"{last.get('fetched_at')}, _id={last.get('_id')}) was not stored: {exc}; "
                "batches before it are stored, and rerunning the interval is safe"
            ) from exc
        store.after_commit(batch)
    stats.batches += 1
    stats.written += len(batch.records)
    stats.rejected += len(batch.rejections)
    for rejection in batch.rejections:
        stats.rejections_by_reason[rejection.reason] = (
            stats.rejections_by_reason.get(rejection.reason, 0) + 1
        )
