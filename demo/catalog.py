"""The demo shop's catalog: products generated from a seed, and their price on any day.

Skus are numbered in category order (``SKU-000001`` upwards) and are the same for every seed;
the seed decides names, brands, prices, ratings, currencies and availability. A few skus play
fixed roles in the crawl scenarios and are named here as class constants.
"""

from __future__ import annotations

import logging
import math
import random
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import ClassVar

from demo import pricing
from demo.catalog_data import (
    BOOK_ADJECTIVES,
    BOOK_FORMS,
    BOOK_NOUNS,
    CATEGORIES,
    PRIVATE_CATEGORIES,
    CategorySpec,
)
from demo.rng import rng

logger = logging.getLogger(__name__)

# How each product page publishes its schema.org Product.
MARKUP_JSONLD = "json-ld"
MARKUP_JSONLD_GRAPH = "json-ld-graph"  # JSON-LD @graph with BreadcrumbList and Organization
MARKUP_MICRODATA = "microdata"
MARKUP_RDFA = "rdfa"
RDFA_CATEGORY = "books"

AVAILABILITIES = ("in_stock", "out_of_stock", "preorder")
DEFAULT_BASE_URL = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class Product:
    """One product of the demo shop (its price on a day comes from :meth:`Catalog.price_on`)."""

    sku: str
    name: str
    slug: str
    brand: str
    category: str
    rating: float | None
    review_count: int | None
    currency: str
    availability: str
    base_price: Decimal | None
    markup: str

    @property
    def path(self) -> str:
        """The canonical path of the product page, ``/shop/p/<sku>-<slug>``."""
        return f"/shop/p/{self.sku}-{self.slug}"

    @property
    def image(self) -> str:
        """The path of the product's (generated SVG) image."""
        return f"/shop/img/{self.sku}.svg"


def slugify(text: str) -> str:
    """Lower-case words joined by hyphens: ``"AirLite 13 G4"`` → ``"airlite-13-g4"``."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def sku_of(number: int) -> str:
    """The sku with the given sequence number (``7`` → ``"SKU-000007"``)."""
    return f"SKU-{number:06d}"


class Catalog:
    """Every product of the demo shop for one seed."""

    #: Its page has Product markup but no price and no offer; price_on returns None.
    NO_PRICE_SKU: ClassVar[str] = "SKU-000043"
    #: Its product page answers only after ``SLOW_SECONDS`` (1.5 s by default).
    SLOW_SKU: ClassVar[str] = "SKU-000101"
    #: Linked only from the robots-disallowed /shop/private/ page, never from a listing.
    PRIVATE_SKUS: ClassVar[tuple[str, ...]] = ("SKU-000547", "SKU-000548", "SKU-000549")
    #: The ordinary (also listed) product the flaky page links to once it answers 200.
    FLAKY_LINKED_SKU: ClassVar[str] = "SKU-000150"
    #: The category whose listing is rendered in the browser from a JSON API.
    JS_CATEGORY: ClassVar[str] = "gadgets"

    def __init__(self, seed: int = 7) -> None:
        self.seed = seed
        self.categories: list[str] = [spec.slug for spec in CATEGORIES]
        self.products: list[Product] = self._generate()
        self._by_sku = {product.sku: product for product in self.products}
        self._private = frozenset(self.PRIVATE_SKUS)
        self._listed: dict[str, list[Product]] = {slug: [] for slug in self.categories}
        for product in self.products:
            if product.sku not in self._private:
                self._listed[product.category].append(product)

    def by_sku(self, sku: str) -> Product | None:
        """The product with this sku, or None."""
        return self._by_sku.get(sku)

    def listed(self, category: str) -> list[Product]:
        """The products a category listing shows, in listing order (private ones left out)."""
        return list(self._listed.get(category, ()))

    def private_products(self) -> list[Product]:
        """The products only the robots-disallowed /shop/private/ page links to."""
        return [self._by_sku[sku] for sku in self.PRIVATE_SKUS]

    def category_title(self, category: str) -> str:
        """The human title of a category slug."""
        return next(spec.title for spec in CATEGORIES if spec.slug == category)

    def price_on(self, product: Product, day: date) -> Decimal | None:
        """The product's price on ``day`` (two decimals, > 0), or None for the no-price product."""
        if product.base_price is None:
            return None
        return pricing.price_on(self.seed, product.sku, product.base_price, day)

    def expected_public_products(
        self, day: date, base_url: str = DEFAULT_BASE_URL
    ) -> dict[str, dict]:
        """What a polite crawler starting at ``/shop/`` should collect on ``day``, keyed by sku.

        Every product linked from a public listing (the gadgets listing included) is there;
        the robots-disallowed private products and the no-price product (which a validating
        crawler drops) are not. Values use the item contract's field names.
        """
        base = base_url.rstrip("/")
        expected: dict[str, dict] = {}
        for category in self.categories:
            for product in self._listed[category]:
                price = self.price_on(product, day)
                if price is None:
                    continue
                expected[product.sku] = {
                    "external_id": product.sku,
                    "name": product.name,
                    "brand": product.brand,
                    "category": product.category,
                    "price": format(price, "f"),
                    "currency": product.currency,
                    "availability": product.availability,
                    "rating": product.rating,
                    "review_count": product.review_count,
                    "image_url": base + product.image,
                    "url": base + product.path,
                }
        return expected

    def _generate(self) -> list[Product]:
        products: list[Product] = []
        names: set[str] = set()
        number = 0
        for spec in CATEGORIES:
            for _ in range(spec.count):
                number += 1
                products.append(self._product(number, spec, names))
        specs = {spec.slug: spec for spec in CATEGORIES}
        for category in PRIVATE_CATEGORIES:
            number += 1
            products.append(self._product(number, specs[category], names, private=True))
        logger.debug("generated %d products for seed %d", len(products), self.seed)
        return products

    def _product(
        self, number: int, spec: CategorySpec, names: set[str], *, private: bool = False
    ) -> Product:
        sku = sku_of(number)
        r = rng(self.seed, "product", sku)
        brand = r.choice(spec.brands)
        name = self._unique_name(r, spec, brand, names)
        if private:
            name += " (Prototype)"
        names.add(name)
        rated = r.random() < 0.88
        rating = round(min(5.0, max(1.0, r.triangular(1.0, 5.0, 4.4))), 1) if rated else None
        review_count = int(math.exp(r.uniform(0.0, 8.0))) if rated else None
        # A handful of products come from a European marketplace partner and are sold in euros.
        currency = "EUR" if r.random() < 0.04 else "USD"
        roll = r.random()
        availability = "in_stock" if roll < 0.80 else "out_of_stock" if roll < 0.92 else "preorder"
        base_price = _base_price(r.uniform(math.log(spec.price_low), math.log(spec.price_high)))
        if spec.slug == RDFA_CATEGORY:
            markup = MARKUP_RDFA
        else:
            markup = (MARKUP_MICRODATA, MARKUP_JSONLD, MARKUP_JSONLD_GRAPH)[number % 3]
        return Product(
            sku=sku,
            name=name,
            slug=slugify(name),
            brand=brand,
            category=spec.slug,
            rating=rating,
            review_count=review_count,
            currency=currency,
            availability=availability,
            base_price=None if sku == self.NO_PRICE_SKU else base_price,
            markup=markup,
        )

    @staticmethod
    def _unique_name(r: random.Random, spec: CategorySpec, brand: str, names: set[str]) -> str:
        for attempt in range(1000):
            if spec.slug == RDFA_CATEGORY:
                name = f"The {r.choice(BOOK_ADJECTIVES)} {r.choice(BOOK_NOUNS)}"
                if attempt > 50:
                    # The title space is small; later editions keep names unique.
                    name += f", Edition {attempt // 50 + 1}"
                name += f" ({r.choice(BOOK_FORMS)})"
            else:
                model = f"{r.choice(spec.model_prefixes)}{r.randint(2, 99) * 10}"
                name = f"{brand} {r.choice(spec.nouns)} {model}"
            if name not in names:
                return name
        raise RuntimeError(f"could not find a unique product name in {spec.slug}")


def _base_price(log_price: float) -> Decimal:
    # Shops price at .99 (or a round .00 for big tickets), never at arbitrary cents.
    whole = max(1, int(math.exp(log_price)))
    cents = "00" if whole >= 1000 else "99"
    return Decimal(f"{whole}.{cents}")
