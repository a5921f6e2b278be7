"""Schema.org JSON-LD for product pages, and the visible labels the pages show next to it."""

from __future__ import annotations

import json
from decimal import Decimal

from markupsafe import Markup

from demo.catalog import MARKUP_JSONLD_GRAPH, Product

SCHEMA = "https://schema.org"
AVAILABILITY_URLS = {
    "in_stock": f"{SCHEMA}/InStock",
    "out_of_stock": f"{SCHEMA}/OutOfStock",
    "preorder": f"{SCHEMA}/PreOrder",
}
AVAILABILITY_LABELS = {
    "in_stock": "In stock",
    "out_of_stock": "Out of stock",
    "preorder": "Available for pre-order",
}
SHOP_NAME = "Sluice Demo Shop"


def display_price(price: Decimal, currency: str) -> str:
    """The price as a shopper reads it: ``$1,299.00`` in dollars, ``1.299,00 €`` in euros."""
    text = f"{price:,.2f}"
    if currency == "EUR":
        # Continental style swaps the separators, the way European shops print prices.
        swapped = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
        return f"{swapped} €"
    return f"${text}"


def product_node(
    product: Product, price: Decimal | None, canonical: str, image_url: str
) -> dict[str, object]:
    """The schema.org Product object of one product page (no offer when there is no price)."""
    node: dict[str, object] = {
        "@type": "Product",
        "name": product.name,
        "sku": product.sku,
        "brand": {"@type": "Brand", "name": product.brand},
        "category": product.category,
        "image": image_url,
        "url": canonical,
    }
    if product.rating is not None:
        node["aggregateRating"] = {
            "@type": "AggregateRating",
            "ratingValue": product.rating,
            "reviewCount": product.review_count,
        }
    if price is not None:
        node["offers"] = {
            "@type": "Offer",
            "price": format(price, "f"),
            "priceCurrency": product.currency,
            "availability": AVAILABILITY_URLS[product.availability],
            "url": canonical,
        }
    return node


def jsonld_document(
    product: Product,
    price: Decimal | None,
    *,
    canonical: str,
    image_url: str,
    shop_url: str,
    category_url: str,
    category_title: str,
) -> dict[str, object]:
    """The whole JSON-LD document: a bare Product, or an @graph with breadcrumbs and the shop."""
    node = product_node(product, price, canonical, image_url)
    if product.markup != MARKUP_JSONLD_GRAPH:
        return {"@context": SCHEMA, **node}
    breadcrumbs = {
        "@type": "BreadcrumbList",
        "itemListElement": [
            {"@type": "ListItem", "position": 1, "name": "Shop", "item": shop_url},
            {"@type": "ListItem", "position": 2, "name": category_title, "item": category_url},
            {"@type": "ListItem", "position": 3, "name": product.name, "item": canonical},
        ],
    }
    organization = {"@type": "Organization", "name": SHOP_NAME, "url": shop_url}
    return {"@context": SCHEMA, "@graph": [organization, breadcrumbs, node]}


def script_json(data: object) -> Markup:
    """JSON safe to place inside a ``<script>`` element."""
    # "</script>" in a product name must not end the element early; "<\\/" is the same JSON.
    text = json.dumps(data, ensure_ascii=False, indent=1).replace("</", "<\\/")
    return Markup(text)  # noqa: S704 - escaped above for the script context
