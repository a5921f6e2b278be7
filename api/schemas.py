"""Request and response schemas of the API (marshmallow, shared with the processors where
they describe the same thing: availability values, currencies)."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from webargs.fields import DelimitedList

from api.text import unstorable
from sluice import changes
from sluice.schemas.normalize import AVAILABILITY

MAX_LIMIT = 200


class Text(fields.String):
    """A text parameter: refused with a message naming it when PostgreSQL could not take it."""

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        problem = unstorable(text)
        if problem:
            raise ValidationError(problem)
        return text


class ErrorBody(Schema):
    """What went wrong: a stable code, a readable message, and details (e.g. per parameter)."""

    code = fields.String(required=True)
    message = fields.String(required=True)
    details = fields.Dict(required=True)


class Error(Schema):
    """Every error response: ``{"error": {"code", "message", "details"}}``."""

    error = fields.Nested(ErrorBody, required=True)


def page_limit() -> fields.Integer:
    """The ``limit`` parameter of every listing."""
    return fields.Integer(
        load_default=50,
        validate=validate.Range(min=1, max=MAX_LIMIT),
        metadata={"description": f"Rows per page (1-{MAX_LIMIT})."},
    )


class PageQuery(Schema):
    """``limit`` and ``cursor`` of every listing."""

    limit = page_limit()
    cursor = Text(
        validate=validate.Length(max=512),
        metadata={"description": "The `next` value of the previous page."},
    )


PRODUCT_SORTS = {"id": "int", "price": "decimal", "updated_at": "datetime", "name": "str"}
QUOTE_SORTS = {"id": "int", "as_of": "datetime", "symbol": "str"}
CRAWL_SORTS = {"started_at": "datetime"}


def decimal_text(**options: object) -> fields.Decimal:
    """A decimal sent as a string (exact, e.g. "19.9900"), and documented as one."""
    return fields.Decimal(
        as_string=True,
        metadata={"type": "string", "format": "decimal", "example": "19.9900"},
        **options,
    )


def _sorts(allowed: dict[str, str]) -> list[str]:
    return [*allowed, *(f"-{name}" for name in allowed)]


class ProductQuery(PageQuery):
    """Filters of ``/products`` (and its CSV export)."""

    source = Text(validate=validate.Length(min=1, max=200))
    category = Text(validate=validate.Length(min=1, max=200))
    brand = Text(validate=validate.Length(min=1, max=200))
    availability = Text(validate=validate.OneOf(AVAILABILITY))
    # The bound is checked in _price_range: a Range validator would be documented as a string.
    min_price = fields.Decimal(places=4, metadata={"minimum": 0})
    max_price = fields.Decimal(places=4, metadata={"minimum": 0})
    q = Text(
        validate=validate.Length(min=1, max=200),
        metadata={"description": "Text to find in the product name (case-insensitive)."},
    )
    updated_since = fields.AwareDateTime(metadata={"description": "ISO 8601 with a zone."})
    sort = Text(load_default="id", validate=validate.OneOf(_sorts(PRODUCT_SORTS)))

    @validates_schema
    def _price_range(self, data: dict, **_: object) -> None:
        low, high = data.get("min_price"), data.get("max_price")
        for name, value in (("min_price", low), ("max_price", high)):
            if value is not None and (value < 0 or not value.is_finite()):
                raise ValidationError("must be a number of at least 0", field_name=name)
        if low is not None and high is not None and low > high:
            raise ValidationError("must not be below min_price", field_name="max_price")


class ProductExportQuery(ProductQuery):
    """The listing's filters, for a CSV export of every match (no paging, id order)."""

    class Meta:
        exclude = ("limit", "cursor", "sort")


class QuoteQuery(PageQuery):
    """Filters of ``/quotes`` (and its CSV export)."""

    symbol = Text(validate=validate.Regexp(r"^[A-Za-z0-9.\-^=]{1,20}$"))
    date_from = fields.Date(metadata={"description": "First trade date (YYYY-MM-DD)."})
    date_to = fields.Date(metadata={"description": "Last trade date (YYYY-MM-DD)."})
    sort = Text(load_default="id", validate=validate.OneOf(_sorts(QUOTE_SORTS)))

    @validates_schema
    def _date_range(self, data: dict, **_: object) -> None:
        low, high = data.get("date_from"), data.get("date_to")
        if low is not None and high is not None and low > high:
            raise ValidationError("must not be before date_from", field_name="date_to")


class QuoteExportQuery(QuoteQuery):
    """The listing's filters, for a CSV export of every match (no paging, id order)."""

    class Meta:
        exclude = ("limit", "cursor", "sort")


class CrawlQuery(PageQuery):
    """Filters of ``/crawls``."""

    spider = Text(validate=validate.Length(min=1, max=100))
    status = Text(
        validate=validate.OneOf(
            ["pending", "running", "finished", "partial", "failed", "cancelled"]
        )
    )
    sort = Text(load_default="-started_at", validate=validate.OneOf(_sorts(CRAWL_SORTS)))


class Product(Schema):
    """A product's current state."""

    id = fields.Integer()
    source = fields.String()
    external_id = fields.String()
    name = fields.String()
    brand = fields.String(allow_none=True)
    category = fields.String(allow_none=True)
    price = decimal_text()
    currency = fields.String()
    availability = fields.String()
    rating = decimal_text(allow_none=True)
    review_count = fields.Integer(allow_none=True)
    image_url = fields.String(allow_none=True)
    url = fields.String()
    first_seen_at = fields.DateTime()
    last_seen_at = fields.DateTime()
    updated_at = fields.DateTime()


class PricePoint(Schema):
    """One observed change of price or availability."""

    price = decimal_text()
    currency = fields.String()
    availability = fields.String()
    observed_at = fields.DateTime()
    crawl_id = fields.String(allow_none=True)


class Quote(Schema):
    """One quote of one symbol at one time."""

    id = fields.Integer()
    symbol = fields.String()
    name = fields.String(allow_none=True)
    exchange = fields.String(allow_none=True)
    price = decimal_text()
    currency = fields.String()
    change = decimal_text(allow_none=True)
    change_pct = decimal_text(allow_none=True)
    volume = fields.Integer(allow_none=True)
    as_of = fields.DateTime()
    trade_date = fields.Date()
    source = fields.String()


class CrawlRun(Schema):
    """One crawl run with its stats."""

    crawl_id = fields.String()
    spider = fields.String(allow_none=True)
    airflow_run_id = fields.String(allow_none=True)
    status = fields.String()
    params = fields.Dict()
    stats = fields.Dict()
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)
    items_received = fields.Integer()
    items_stored = fields.Integer()
    items_rejected = fields.Integer()


def page_of(item: type[Schema], name: str) -> type[Schema]:
    """A page schema: ``items`` and the ``next`` cursor (null on the last page)."""
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item)),
            "next": fields.String(allow_none=True),
        },
        name=name,
    )


CHANGE_KINDS = changes.KINDS


class ChangeQuery(Schema):
    """Where to read the change feed from, and which changes."""

    since = Text(
        validate=validate.Length(min=1, max=512),
        metadata={
            "description": "The `next` value of the previous page; `now` starts at the feed's "
            "end (no changes, and the position to follow from). Without it: from the start."
        },
    )
    kinds = DelimitedList(
        Text(validate=validate.OneOf(CHANGE_KINDS)),
        metadata={"description": f"Comma-separated kinds to list (default all): {CHANGE_KINDS}."},
    )
    limit = page_limit()


class ChangedValues(Schema):
    """A product's price, currency and availability on one side of a change."""

    price = decimal_text()
    currency = fields.String()
    availability = fields.String()


class Change(Schema):
    """One recorded change of a product: what it was before (null when new) and after."""

    id = fields.Integer(metadata={"description": "The price history row that records it."})
    kinds = fields.List(fields.String(validate=validate.OneOf(CHANGE_KINDS)))
    product_id = fields.Integer()
    source = fields.String()
    external_id = fields.String()
    observed_at = fields.DateTime()
    crawl_id = fields.String(allow_none=True)
    old = fields.Nested(ChangedValues, allow_none=True)
    new = fields.Nested(ChangedValues)


class ChangePage(Schema):
    """Changes in the order they were recorded, and where to go on from (always set: poll it
    again for changes recorded later)."""

    items = fields.List(fields.Nested(Change))
    next = fields.String(required=True)


ProductPage = page_of(Product, "ProductPage")
PricePage = page_of(PricePoint, "PricePage")
QuotePage = page_of(Quote, "QuotePage")
CrawlPage = page_of(CrawlRun, "CrawlPage")


class CrawlRequestBody(Schema):
    """A crawl to start now: the spider, where it starts, and how far it may go."""

    spider = Text(required=True, metadata={"example": "ecommerce"})
    start_urls = fields.List(Text(), required=True, metadata={"example": ["https://shop.example/"]})
    max_pages = fields.Integer(
        load_default=0,
        validate=validate.Range(0, 1_000_000),
        metadata={"description": "0: no limit"},
    )
    date = fields.Date(
        load_default=None, allow_none=True, metadata={"description": "A dated spider's day"}
    )


class CrawlRequestAccepted(Schema):
    """A crawl request published for Airflow to run."""

    request_id = fields.String(required=True)
    spider = fields.String(required=True)
    dag_id = fields.String(required=True, metadata={"description": "The DAG that runs it"})
    run_id = fields.String(required=True, metadata={"description": "Its Airflow run id"})
    start_urls = fields.List(fields.String(), required=True)
    max_pages = fields.Integer(required=True)
