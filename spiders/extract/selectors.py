"""Product fields from per-site CSS selectors, for pages whose markup is missing or thin.

A site's selectors map contract field names to CSS queries, plus an optional "product" query
for the element holding one product (several on a listing page), for example::

    {"product": "li.card", "name": "h2::text", "price": ".price::text",
     "image_url": "img::attr(src)", "category": "nav.breadcrumb a::text"}

A query that selects elements (no ``::text`` or ``::attr()``) reads their whole text.
"""

from __future__ import annotations

from parsel import Selector

from sluice.schemas import normalize
from spiders.extract.candidate import FIELDS, Candidate, identifier_key
from spiders.extract.values import absolute_url, clean_text, to_float, to_int

CONTAINER = "product"


def check(selectors: dict[str, str]) -> None:
    """Raise ValueError for keys that are neither a product field nor "product"."""
    unknown = sorted(set(selectors) - set(FIELDS) - {CONTAINER})
    if unknown:
        raise ValueError(f"unknown selector keys {unknown}; allowed: {[*FIELDS, CONTAINER]}")


def candidates(text: str, base_url: str, selectors: dict[str, str]) -> list[Candidate]:
    """One record per product container (or one for the page), with a name or not."""
    page = Selector(text=text)
    container = selectors.get(CONTAINER)
    scopes = page.css(container) if container else [page]
    return [_candidate(scope, base_url, selectors) for scope in scopes]


def _texts(scope: Selector, query: str | None) -> list[str]:
    if not query:
        return []
    texts = []
    for match in scope.css(query):
        raw = match.get() if isinstance(match.root, str) else match.xpath("string()").get()
        text = clean_text(raw)
        if text:
            texts.append(text)
    return texts


def _candidate(scope: Selector, base_url: str, selectors: dict[str, str]) -> Candidate:
    texts = {name: _texts(scope, selectors.get(name)) for name in FIELDS}
    one = {name: values[0] if values else None for name, values in texts.items()}
    price_text = one["price"]
    fields = {
        "external_id": one["external_id"],
        "name": one["name"],
        "brand": one["brand"],
        # Breadcrumb selectors match one element per level; the path reads best joined.
        "category": " > ".join(texts["category"]) or None,
        "price": normalize.price(price_text),
        "currency": normalize.currency(one["currency"], price_text=price_text),
        "availability": normalize.availability(one["availability"]),
        "rating": _rating(one["rating"]),
        "review_count": to_int(one["review_count"]),
        "image_url": absolute_url(one["image_url"], base_url),
        "url": absolute_url(one["url"], base_url),
    }
    identifiers = frozenset({identifier_key(one["external_id"])} if one["external_id"] else ())
    return Candidate(fields, identifiers)


def _rating(text: str | None) -> float | None:
    value = to_float(text)
    return value if value is not None and 0 <= value <= 5 else None
