"""The product and quote items of the data contract, as marshmallow schemas.

Loading an item validates it and returns the canonical form (decimal strings stay strings on
the wire; loading gives Decimal and datetime values). A ValidationError's messages name each
field that is wrong; :func:`rejection_reason` turns them into the short slash-separated reason
that drop counters and the dead-letter queue use (``no_price``, ``invalid/currency``).
"""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate

from sluice.schemas.currencies import ISO_4217
from sluice.schemas.normalize import AVAILABILITY

#: prices are strictly positive: a zero price is a page error, not a free product
POSITIVE = validate.Range(min=0, min_inclusive=False, error="must be greater than 0")


def iso_currency(value: str) -> None:
    """Accept only active ISO 4217 codes ("USD", not "$" or "usd")."""
    if value not in ISO_4217:
        raise ValidationError(f"{value!r} is not an ISO 4217 currency code")


class ProductItemSchema(Schema):
    """A product as one shop publishes it at one moment."""

    external_id = fields.String(required=True, validate=validate.Length(min=1, max=512))
    name = fields.String(required=True, validate=validate.Length(min=1, max=1000))
    brand = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=300))
    category = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=300))
    price = fields.Decimal(
        required=True, places=None, as_string=True, allow_nan=False, validate=POSITIVE
    )
    currency = fields.String(required=True, validate=iso_currency)
    availability = fields.String(load_default="unknown", validate=validate.OneOf(AVAILABILITY))
    rating = fields.Float(load_default=None, allow_none=True, validate=validate.Range(min=0, max=5))
    review_count = fields.Integer(
        load_default=None, allow_none=True, strict=False, validate=validate.Range(min=0)
    )
    image_url = fields.Url(
        load_default=None, allow_none=True, require_tld=False, schemes={"http", "https"}
    )
    url = fields.Url(required=True, require_tld=False, schemes={"http", "https"})


class SeenItemSchema(Schema):
    """A product seen again, unchanged: its page answered 304 Not Modified, its content hashed
    as before, or its sitemap entry had not changed since the page was last fetched. The
    product's last sighting moves on; nothing else about it changes."""

    external_id = fields.String(required=True, validate=validate.Length(min=1, max=512))
    url = fields.Url(required=True, require_tld=False, schemes={"http", "https"})


class QuoteItemSchema(Schema):
    """One symbol's quote at one moment of one trading day."""

    symbol = fields.String(
        required=True, validate=validate.Regexp(r"^[A-Z0-9.\-]{1,15}$", error="not a ticker")
    )
    name = fields.String(load_default=None, allow_none=True)
    exchange = fields.String(load_default=None, allow_none=True)
    price = fields.Decimal(
        required=True, places=None, as_string=True, allow_nan=False, validate=POSITIVE
    )
    currency = fields.String(required=True, validate=iso_currency)
    change = fields.Decimal(load_default=None, allow_none=True, as_string=True, allow_nan=False)
    change_pct = fields.Decimal(load_default=None, allow_none=True, as_string=True, allow_nan=False)
    volume = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=0))
    as_of = fields.AwareDateTime(required=True, format="iso")
    trade_date = fields.Date(required=True)


def rejection_reason(error: ValidationError, schema: Schema | None = None) -> str:
    """A short, stable reason for counting: ``no_<field>`` or ``invalid/<field>``.

    The first failing field in the schema's declaration order decides (identity, then name,
    then price...), so the same bad item always gets the same, most telling reason.
    """
    messages = error.messages if isinstance(error.messages, dict) else {"_schema": error.messages}
    order = list(schema.declared_fields) if schema is not None else []
    field = min(
        messages, key=lambda name: (order.index(name) if name in order else len(order), name)
    )
    text = " ".join(str(m) for m in _flatten(messages[field]))
    if "Missing data" in text or "may not be null" in text:
        return f"no_{field}"
    return f"invalid/{field}"


def _flatten(value: object) -> list[object]:
    if isinstance(value, dict):
        return [m for v in value.values() for m in _flatten(v)]
    if isinstance(value, list):
        return [m for v in value for m in _flatten(v)]
    return [value]


#: the product item's fields in contract order (extractors produce exactly these keys)
PRODUCT_FIELDS: tuple[str, ...] = tuple(ProductItemSchema().fields)
