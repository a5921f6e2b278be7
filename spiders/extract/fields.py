"""The item contract's fields from one schema.org Product node."""

from __future__ import annotations

from sluice.schemas import normalize
from spiders.extract.candidate import Candidate, identifier_key
from spiders.extract.graph import Found, types_of
from spiders.extract.values import absolute_url, as_list, clean_text, first, to_float, to_int

# In the order the contract prefers them for external_id.
IDENTIFIER_PROPERTIES = (
    "sku",
    "gtin13",
    "gtin",
    "gtin14",
    "gtin12",
    "gtin8",
    "mpn",
    "productID",
)

# What a variant may take from its ProductGroup; identifiers stay the variant's own.
_INHERITED = ("name", "brand", "category", "rating", "review_count", "image_url", "url")


def candidate(found: Found, base_url: str) -> Candidate:
    """The contract's fields of a found Product, filled from its group where it says nothing."""
    result = _read(found.node, base_url, found.offer)
    if found.group is not None:
        parent = _read(found.group, base_url, None)
        for name in _INHERITED:
            if result.fields.get(name) is None:
                result.fields[name] = parent.fields.get(name)
        if result.fields["price"] is None and parent.fields["price"] is not None:
            for name in ("price", "currency", "availability"):
                result.fields[name] = parent.fields[name]
    return result


def _read(node: dict, base_url: str, context_offer: dict | None) -> Candidate:
    offers = _offers(node.get("offers")) or _offers(context_offer) or _misplaced_offer(node)
    offer, price_text, price = _priced_offer(offers)
    identifiers = _identifiers(node) + _identifiers(offer or {})
    fields = {
        "external_id": identifiers[0] if identifiers else None,
        "name": clean_text(_name_of(node.get("name"))),
        "brand": clean_text(_name_of(first(node.get("brand")))),
        "category": clean_text(_name_of(first(node.get("category")))),
        "price": price,
        "currency": _currency(offer, offers, price_text),
        "availability": _availability(offer, offers),
        "rating": _rating(first(node.get("aggregateRating"))),
        "review_count": _review_count(first(node.get("aggregateRating"))),
        "image_url": _image_url(node.get("image"), base_url),
        "url": absolute_url(first(node.get("url")), base_url),
    }
    return Candidate(fields, frozenset(identifier_key(i) for i in identifiers))


def _identifiers(node: dict) -> list[str]:
    values = (clean_text(first(node.get(name))) for name in IDENTIFIER_PROPERTIES)
    return [v for v in values if v]


def _name_of(value: object) -> object:
    """A Brand, Organization or category Thing by its name; plain text as it is."""
    if isinstance(value, dict):
        return value.get("name")
    return value


def _offers(value: object) -> list[dict]:
    """The offers in order, an AggregateOffer's own offers after the aggregate itself."""
    offers: list[dict] = []
    for offer in as_list(value):
        if isinstance(offer, dict):
            offers.append(offer)
            offers.extend(o for o in as_list(offer.get("offers")) if isinstance(o, dict))
    return offers


def _misplaced_offer(node: dict) -> list[dict]:
    """Older shop themes put price and priceCurrency on the Product itself; read them there."""
    return [node] if any(node.get(k) is not None for k in ("price", "lowPrice")) else []


def _price_text(offer: dict) -> object:
    if "AggregateOffer" in types_of(offer):
        candidates = [offer.get("lowPrice"), offer.get("price")]
    else:
        candidates = [offer.get("price"), offer.get("lowPrice")]
    candidates += [spec.get("price") for spec in _specifications(offer)]
    return first([c for c in candidates if c is not None and c != ""])


def _specifications(offer: dict) -> list[dict]:
    return [s for s in as_list(offer.get("priceSpecification")) if isinstance(s, dict)]


def _priced_offer(offers: list[dict]) -> tuple[dict | None, object, str | None]:
    """The first offer with a positive price, else the first with any price, else none."""
    priced = []
    for offer in offers:
        text = first(_price_text(offer))
        value = normalize.price(text)
        if value is not None:
            priced.append((offer, text, value))
    for offer, text, value in priced:
        if float(value) > 0:
            return offer, text, value
    return priced[0] if priced else (None, None, None)


def _currency(offer: dict | None, offers: list[dict], price_text: object) -> str | None:
    for candidate in [offer] if offer is not None else offers:
        codes = [candidate.get("priceCurrency")]
        codes += [spec.get("priceCurrency") for spec in _specifications(candidate)]
        code = first([c for c in codes if c])
        found = normalize.currency(
            clean_text(code) if code is not None else None, price_text=price_text
        )
        if found:
            return found
    return None


def _availability(offer: dict | None, offers: list[dict]) -> str:
    ordered = ([offer] if offer is not None else []) + offers
    for candidate in ordered:
        value = normalize.availability(clean_text(first(candidate.get("availability"))))
        if value != "unknown":
            return value
    return "unknown"


def _rating(rating: object) -> float | None:
    """The rating on the contract's 0-5 scale; None when the page's scale cannot be mapped."""
    if not isinstance(rating, dict):
        return None
    value = to_float(first(rating.get("ratingValue")))
    best = to_float(first(rating.get("bestRating")))
    if value is None:
        return None
    if best is not None and best > 0 and best != 5:
        value = round(value / best * 5, 2)
    return value if 0 <= value <= 5 else None


def _review_count(rating: object) -> int | None:
    if not isinstance(rating, dict):
        return None
    for name in ("reviewCount", "ratingCount"):
        count = to_int(first(rating.get(name)))
        if count is not None:
            return count
    return None


def _image_url(value: object, base_url: str) -> str | None:
    for image in as_list(value):
        if isinstance(image, dict):
            image = first(image.get("url")) or first(image.get("contentUrl")) or image.get("@id")
        url = absolute_url(image, base_url)
        if url:
            return url
    return None
