"""The normalizer: validated, normalised rows into PostgreSQL.

Each envelope is validated with the shared schemas (the ones the spiders validated with),
normalised (decimal prices, upper-case ISO currencies, UTC timestamps) and upserted:
``products`` (current state, newest observation wins), ``product_prices`` (a row only when
price, currency or availability changed), ``quotes`` and ``crawl_runs``. Messages that are not
JSON, not UTF-8, of an unknown schema or invalid are rejected with a reason; so is a row the
database refuses for its data. Every statement is an idempotent upsert keyed by natural keys
and observation times, so replaying any range of the topics changes no row.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
from confluent_kafka import Message
from marshmallow import ValidationError

from processors.base import Batch, Handler, Origin, Rejection, Sink, SinkUnavailable
from processors.sql import normalizer as sql
from sluice.schemas.envelope import ITEM_SCHEMAS, EnvelopeSchema
from sluice.schemas.envelope import item_schema as envelope_item_schema
from sluice.schemas.items import (
    ProductItemSchema,
    QuoteItemSchema,
    SeenItemSchema,
    rejection_reason,
)
from sluice.schemas.validation import EnvelopeValidator

log = logging.getLogger(__name__)

#: PostgreSQL error classes that mean "this data", not "this database": 22 data exception,
#: 23 integrity constraint violation
DATA_ERROR_CLASSES = ("22", "23")


@dataclass(frozen=True)
class Observation:
    """One validated, normalised item and where it came from."""

    origin: Origin
    crawl_id: str
    spider: str
    source: str
    fetched_at: datetime
    item: dict[str, Any]
    payload: bytes


class ProductRow(Observation):
    """A product observation (for ``products`` and ``product_prices``)."""


class QuoteRow(Observation):
    """A quote observation (for ``quotes``)."""


class SeenRow(Observation):
    """A product seen again unchanged (moves its ``last_seen_at`` on)."""


#: the kind of row each item schema makes (a new schema version of a kind makes the same)
ROW_TYPES = {ProductItemSchema: ProductRow, SeenItemSchema: SeenRow, QuoteItemSchema: QuoteRow}


class NormalizeHandler(Handler):
    """Decode, validate and normalise one envelope."""

    stage = "normalize"

    def __init__(self) -> None:
        self.validator = EnvelopeValidator()

    def handle(self, message: Message, batch: Batch) -> None:
        self.handle_value(message.value() or b"", Origin.of(message), batch)

    def handle_value(self, payload: bytes, origin: Origin, batch: Batch) -> None:
        """Append the record of message bytes ``payload`` read at ``origin``, or its rejection.

        The Kafka path and the reprocessing of archived envelopes (:mod:`processors.reprocess`)
        both come through here, so they validate and normalise alike.
        """

        def reject(reason: str, error: str, crawl_id: str | None = None) -> None:
            batch.rejections.append(
                Rejection(origin, self.stage, reason, error[:2000], payload, crawl_id=crawl_id)
            )

        try:
            envelope = json.loads(payload.decode("utf-8"))
        except UnicodeDecodeError as exc:
            reject("invalid_utf8", str(exc))
            return
        except json.JSONDecodeError as exc:
            reject("invalid_json", str(exc))
            return
        if not isinstance(envelope, dict):
            reject("invalid_envelope", f"a JSON {type(envelope).__name__}, not an object")
            return
        crawl_id = envelope.get("crawl_id") if isinstance(envelope.get("crawl_id"), str) else None
        if envelope.get("schema") not in ITEM_SCHEMAS:
            reject(
                "unknown_schema",
                f"schema {envelope.get('schema')!r} is not one of {sorted(ITEM_SCHEMAS)}",
                crawl_id,
            )
            return
        try:
            loaded, item, item_schema = self.validator.load(envelope)
        except ValidationError as exc:
            reason = _reason(exc, envelope_item_schema(envelope["schema"]))
            reject(reason, json.dumps(exc.messages, default=str), crawl_id)
            return
        # The kind of row follows the item schema, so a new schema version of a kind works.
        row_type = next(row for kind, row in ROW_TYPES.items() if isinstance(item_schema, kind))
        batch.records.append(
            row_type(
                origin=origin,
                crawl_id=loaded["crawl_id"],
                spider=loaded["spider"],
                source=loaded["source"],
                fetched_at=loaded["fetched_at"].astimezone(UTC),
                item=item,
                payload=payload,
            )
        )


def _reason(error: ValidationError, item_schema) -> str:
    messages = error.messages if isinstance(error.messages, dict) else {}
    if set(messages) == {"item"} and isinstance(messages["item"], dict):
        inner = ValidationError(messages["item"])
        return "invalid_item/" + rejection_reason(inner, item_schema)
    return "invalid_envelope/" + rejection_reason(error, EnvelopeSchema())


class PostgresSink(Sink):
    """Writes a batch in one transaction; isolates rows the database refuses.

    The batch is merged set-based (COPY into staging, one merge per table). Only when the
    database refuses it for its data is the batch written again, in savepoints halving the
    part at fault, so each refused row is rejected with the database's reason and the rest
    is stored.
    """

    def __init__(
        self,
        connect: Callable[[], psycopg.Connection],
        after_commit=None,
        forget_fingerprints: Callable[[list[tuple[str, str]]], None] | None = None,
    ) -> None:
        self.connect = connect
        self.conn: psycopg.Connection | None = None
        self.bump_versions = after_commit
        self.forget_fingerprints = forget_fingerprints
        # Products the last written batch's seen notices named but the store does not have.
        self.unknown_seen: list[tuple[str, str]] = []

    def open(self) -> None:
        self._connection()

    def _connection(self) -> psycopg.Connection:
        if self.conn is None or self.conn.closed:
            try:
                conn = self.connect()
            except psycopg.OperationalError as exc:
                raise SinkUnavailable(f"PostgreSQL: {str(exc).strip()}") from exc
            try:
                # The staging tables live as long as this session (it is the sink's own).
                sql.create_staging(conn)
            except psycopg.Error as exc:
                conn.close()
                if isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
                    raise SinkUnavailable(f"PostgreSQL: {str(exc).strip()}") from exc
                raise
            self.conn = conn
        return self.conn

    def write(self, batch: Batch) -> None:
        # The batch is changed only once everything is stored, so a retry starts afresh.
        conn = self._connection()
        records = list(batch.records)
        try:
            try:
                refused = self._store(conn, batch, records, isolate=False)
            except psycopg.Error as exc:
                if not _is_data_error(exc):
                    raise
                log.warning(
                    "batch of %d records refused (%s); writing it again to isolate the rows",
                    len(records),
                    exc.sqlstate,
                )
                refused = self._store(conn, batch, records, isolate=True)
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            self._drop_connection()
            raise SinkUnavailable(f"PostgreSQL: {str(exc).strip()}") from exc
        if refused:
            refused_ids = {id(r) for r, _ in refused}
            batch.records[:] = [r for r in batch.records if id(r) not in refused_ids]
            batch.rejections.extend(rejection for _, rejection in refused)

    def _store(
        self, conn: psycopg.Connection, batch: Batch, records: list, *, isolate: bool
    ) -> list[tuple[Any, Rejection]]:
        """Rows, rejections and crawl counts in one transaction; the records refused."""
        refused: list[tuple[Any, Rejection]] = []
        self.unknown_seen = []
        with conn.transaction():
            if isolate:
                self._write_isolating(conn, records, refused)
            else:
                self.unknown_seen = _upsert(conn, records)
            rejections = batch.rejections + [rejection for _, rejection in refused]
            sql.insert_rejections(conn, rejections)
            sql.refresh_crawl_runs(conn, _crawls(records, rejections))
        return refused

    def _write_isolating(self, conn: psycopg.Connection, records: list, refused: list) -> None:
        """Write records in a savepoint; on a data error, halve them to find the rows at fault."""
        if not records:
            return
        try:
            with conn.transaction():
                # Parts written before stay staged until the commit: merge this part alone.
                sql.clear_staging(conn)
                self.unknown_seen += _upsert(conn, records)
        except psycopg.Error as exc:
            if not _is_data_error(exc):
                raise
            if len(records) == 1:
                r = records[0]
                reason, error = f"storage/{exc.sqlstate}", str(exc).strip()[:2000]
                refused.append(
                    (r, Rejection(r.origin, "store", reason, error, r.payload, crawl_id=r.crawl_id))
                )
                return
            middle = len(records) // 2
            self._write_isolating(conn, records[:middle], refused)
            self._write_isolating(conn, records[middle:], refused)

    def _drop_connection(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()
            finally:
                self.conn = None

    def after_commit(self, batch: Batch) -> None:
        if self.unknown_seen and self.forget_fingerprints is not None:
            self.forget_fingerprints(self.unknown_seen)
        self.unknown_seen = []
        if self.bump_versions is not None:
            kinds = {"products" for r in batch.records if isinstance(r, ProductRow | SeenRow)}
            kinds |= {"quotes" for r in batch.records if isinstance(r, QuoteRow)}
            self.bump_versions(sorted(kinds))

    def close(self) -> None:
        self._drop_connection()


def _upsert(conn: psycopg.Connection, records: list) -> list[tuple[str, str]]:
    """Write the records; the products their seen notices named that are not stored."""
    sql.upsert_products(conn, [r for r in records if isinstance(r, ProductRow)])
    sql.upsert_quotes(conn, [r for r in records if isinstance(r, QuoteRow)])
    # After the products: a product's item and its seen notice may share a batch.
    return sql.mark_seen(conn, [r for r in records if isinstance(r, SeenRow)])


def _is_data_error(exc: psycopg.Error) -> bool:
    return (getattr(exc, "sqlstate", None) or "").startswith(DATA_ERROR_CLASSES)


def _crawls(records: list, rejections: list[Rejection]) -> dict[str, dict[str, Any]]:
    crawls: dict[str, dict[str, Any]] = {}
    for r in records:
        entry = crawls.setdefault(
            r.crawl_id, {"spider": r.spider, "first": r.fetched_at, "last": r.fetched_at}
        )
        entry["first"] = min(entry["first"], r.fetched_at)
        entry["last"] = max(entry["last"], r.fetched_at)
    for rejection in rejections:
        if rejection.crawl_id and rejection.crawl_id not in crawls:
            now = datetime.now(UTC)
            crawls[rejection.crawl_id] = {"spider": None, "first": now, "last": now}
    return crawls
