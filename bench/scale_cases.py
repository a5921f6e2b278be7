"""Every documented filter and sort of the products listing, and the price history, as
requests built around one product of the catalog.

A case takes a sample product and gives the query string of a first page that the sample
belongs to (its category, its price as a bound, …) and the cursor of a deep page: the page
right after the sample, so the deep page starts wherever the sample sits in that order. The
cursor is made by the API's own :func:`api.pagination.encode_cursor`, so it is the one the
API would have returned on the page before.

The benchmark measures these requests through the served API; the query-plan test builds
the same requests' SQL through the API's service layer and checks their plans.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from api.pagination import encode_cursor
from api.schemas import PRODUCT_SORTS, ProductQuery

PRODUCTS = "/api/v1/products"
#: rows per page in every case (the API's default)
LIMIT = 50


@dataclass(frozen=True)
class Sample:
    """A product of the catalog (the columns the filters and sorts read) and one of its
    price rows."""

    id: int
    source: str
    category: str
    brand: str
    availability: str
    price: Decimal
    name: str
    updated_at: datetime
    price_id: int

    @property
    def model(self) -> str:
        """The rare word of its name (the model number, ``M12345``)."""
        return self.name.rsplit(" ", 1)[-1]

    @property
    def word(self) -> str:
        """A common word of its name (its kind of product, ``Lamp``)."""
        return self.name.split(" ")[1]


@dataclass(frozen=True)
class Case:
    """One documented filter or sort: ``params`` of its first page; ``sort`` and
    ``position`` (the sample's value of the sort column) make the deep page's cursor."""

    key: str
    label: str
    params: Callable[[Sample], dict[str, str]]
    sort: str = "id"
    position: Callable[[Sample], object] = lambda sample: sample.id
    #: the listing's path; the price history's depends on the sample
    path: Callable[[Sample], str] = lambda sample: PRODUCTS

    def first_page(self, sample: Sample) -> tuple[str, dict[str, str]]:
        """(path, query string) of the first page."""
        return self.path(sample), {"limit": str(LIMIT), **self.params(sample)}

    def deep_page(self, sample: Sample) -> tuple[str, dict[str, str]]:
        """(path, query string) of the page that follows the sample in this order."""
        path, params = self.first_page(sample)
        row_id = sample.price_id if self.key == "prices" else sample.id
        return path, {**params, "cursor": encode_cursor(self.sort, self.position(sample), row_id)}


def _filter(name: str, value: Callable[[Sample], object], label: str = "") -> Case:
    return Case(name, label or f"?{name}=", lambda s: {name: str(value(s))})


def _text(value: object) -> object:
    """A cursor value as the API writes it (its ``encode_cursor`` turns these two the same)."""
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value) if isinstance(value, Decimal) else value


def _sort(sort: str) -> Case:
    column = sort.lstrip("-")
    return Case(
        f"sort={sort}",
        f"?sort={sort}",
        lambda s: {"sort": sort},
        sort=sort,
        position=lambda s: _text(getattr(s, column)),
    )


FILTERS = (
    _filter("source", lambda s: s.source),
    _filter("category", lambda s: s.category),
    _filter("brand", lambda s: s.brand),
    _filter("availability", lambda s: s.availability),
    _filter("min_price", lambda s: s.price),
    _filter("max_price", lambda s: s.price),
    _filter("q", lambda s: s.model, "?q= a rare word"),
    Case("q_word", "?q= a common word", lambda s: {"q": s.word}),
    _filter("updated_since", lambda s: s.updated_at.isoformat()),
)
SORTS = tuple(_sort(sort) for sort in (*PRODUCT_SORTS, *(f"-{s}" for s in PRODUCT_SORTS)))
PRICES = Case(
    "prices",
    "/products/<id>/prices",
    lambda s: {},
    path=lambda s: f"{PRODUCTS}/{s.id}/prices",
    position=lambda s: s.price_id,
)
CASES = (*FILTERS, *SORTS, PRICES)


def documented_filters() -> set[str]:
    """The filters the listing's schema (and so its OpenAPI document) declares."""
    return set(ProductQuery().fields) - {"limit", "cursor", "sort"}


def covered_filters() -> set[str]:
    """The filters :data:`FILTERS` exercises."""
    return {name for case in FILTERS for name in case.params(_EXAMPLE)}


_EXAMPLE = Sample(
    1, "s", "c", "b", "in_stock", Decimal("1"), "Oak Lamp M1", datetime(2026, 1, 1, tzinfo=UTC), 1
)
