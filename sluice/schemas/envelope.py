"""The message envelope every spider publishes and every processor reads.

``{"schema": "product/1", "crawl_id": ..., "spider": ..., "source": ..., "url": ...,
"fetched_at": "2026-11-23T08:00:00Z", "item": {...}}``, UTF-8 JSON, keyed by the item's
natural key so one product or symbol stays ordered in one partition.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from sluice.schemas.items import ProductItemSchema, QuoteItemSchema, SeenItemSchema

PRODUCT_SCHEMA = "product/1"
QUOTE_SCHEMA = "quote/1"
#: a product seen again unchanged (keyed like its product, so it stays in order with it)
SEEN_SCHEMA = "seen/1"
ITEM_SCHEMAS: dict[str, type[Schema]] = {
    PRODUCT_SCHEMA: ProductItemSchema,
    QUOTE_SCHEMA: QuoteItemSchema,
    SEEN_SCHEMA: SeenItemSchema,
}


def _known_schema(name: str) -> None:
    # Looked up at validation time, so a schema registered later (a new version) is known.
    if name not in ITEM_SCHEMAS:
        raise ValidationError(f"must be one of: {', '.join(sorted(ITEM_SCHEMAS))}")


class EnvelopeSchema(Schema):
    """The envelope around one item; validating it validates the item by its schema."""

    schema = fields.String(required=True, validate=lambda name: _known_schema(name))
    crawl_id = fields.String(required=True, validate=validate.Length(min=1, max=200))
    spider = fields.String(required=True, validate=validate.Length(min=1, max=100))
    source = fields.String(required=True, validate=validate.Length(min=1, max=300))
    url = fields.Url(required=True, require_tld=False, schemes={"http", "https"})
    fetched_at = fields.AwareDateTime(required=True, format="iso")
    item = fields.Dict(required=True)

    @validates_schema
    def _item_matches_schema(self, data: dict[str, Any], **_: object) -> None:
        if data.get("schema") not in ITEM_SCHEMAS:
            return
        errors = item_schema(data["schema"]).validate(data.get("item") or {})
        if errors:
            raise ValidationError({"item": errors})


def item_schema(name: str) -> Schema:
    """The (shared) schema instance that validates items of schema ``name``."""
    # One instance per schema class: building a marshmallow schema costs more than using it.
    cls = ITEM_SCHEMAS[name]
    instance = _INSTANCES.get(cls)
    if instance is None:
        instance = _INSTANCES[cls] = cls()
    return instance


_INSTANCES: dict[type[Schema], Schema] = {}


def natural_key(schema: str, source: str, item: dict[str, Any]) -> str:
    """The Kafka key: ``<source>:<external_id>`` for products (and their seen notices),
    ``<symbol>`` for quotes."""
    if schema in (PRODUCT_SCHEMA, SEEN_SCHEMA):
        return f"{source}:{item['external_id']}"
    if schema == QUOTE_SCHEMA:
        return str(item["symbol"])
    raise ValueError(f"unknown item schema {schema!r}")


def utc_timestamp(moment: datetime | None = None) -> str:
    """An ISO-8601 UTC timestamp with a Z suffix, to the second."""
    moment = (moment or datetime.now(UTC)).astimezone(UTC)
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def build_envelope(
    *,
    schema: str,
    crawl_id: str,
    spider: str,
    source: str,
    url: str,
    item: dict[str, Any],
    fetched_at: datetime | None = None,
) -> dict[str, Any]:
    """The envelope dict for one item (validate it with :class:`EnvelopeSchema`)."""
    return {
        "schema": schema,
        "crawl_id": crawl_id,
        "spider": spider,
        "source": source,
        "url": url,
        "fetched_at": utc_timestamp(fetched_at),
        "item": item,
    }


def encode(envelope: dict[str, Any]) -> bytes:
    """The wire form: compact UTF-8 JSON."""
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":"), default=str).encode()
