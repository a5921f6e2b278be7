"""Product pages: canonical links and schema.org Product markup in its three syntaxes."""

from __future__ import annotations

import extruct
import pytest

from demo.catalog import (
    MARKUP_JSONLD,
    MARKUP_JSONLD_GRAPH,
    MARKUP_MICRODATA,
    MARKUP_RDFA,
    Catalog,
)

BASE = "http://localhost"
SCHEMA_AVAILABILITY = {
    "in_stock": "https://schema.org/InStock",
    "out_of_stock": "https://schema.org/OutOfStock",
    "preorder": "https://schema.org/PreOrder",
}


def _first(catalog, markup, *, rated=True):
    return next(
        p
        for p in catalog.products
        if p.markup == markup
        and (p.rating is not None) == rated
        and p.sku != Catalog.NO_PRICE_SKU
        and p.sku != Catalog.SLOW_SKU
    )


def _extract(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return extruct.extract(
        response.get_data(as_text=True),
        base_url=BASE + url,
        syntaxes=["json-ld", "microdata", "rdfa"],
        uniform=True,
    )


def _product_node(data, syntax):
    nodes = data[syntax]
    if syntax == "json-ld" and "@graph" in nodes[0]:
        nodes = nodes[0]["@graph"]
    return next(node for node in nodes if node.get("@type") in ("Product", ["Product"]))


def test_every_markup_kind_is_used(catalog):
    kinds = {p.markup for p in catalog.products}
    assert kinds == {MARKUP_JSONLD, MARKUP_JSONLD_GRAPH, MARKUP_MICRODATA, MARKUP_RDFA}
    assert {p.category for p in catalog.products if p.markup == MARKUP_RDFA} == {"books"}


def test_canonical_link_is_absolute_and_a_wrong_slug_still_serves_the_product(page, catalog):
    product = catalog.products[5]
    for url in (product.path, f"/shop/p/{product.sku}-old-name", f"/shop/p/{product.sku}"):
        html = page(url)
        assert html.xpath('//link[@rel="canonical"]/@href') == [BASE + product.path]
        assert html.xpath('string(//h1[@class="product-name"])') == product.name


def test_canonical_link_follows_the_request_host(client, catalog):
    product = catalog.products[0]
    response = client.get(product.path, base_url="http://shop.example:8000")
    assert f'<link rel="canonical" href="http://shop.example:8000{product.path}">' in (
        response.get_data(as_text=True)
    )


@pytest.mark.parametrize(
    "markup", [MARKUP_JSONLD, MARKUP_JSONLD_GRAPH, MARKUP_MICRODATA, MARKUP_RDFA]
)
def test_product_markup_carries_the_item(client, catalog, day, markup):
    product = _first(catalog, markup)
    data = _extract(client, product.path)
    syntax = {MARKUP_JSONLD_GRAPH: "json-ld"}.get(markup, markup)
    assert [kind for kind, nodes in data.items() if nodes] == [syntax]
    if markup == MARKUP_RDFA:
        _check_rdfa(data["rdfa"], product, catalog.price_on(product, day))
        return
    if markup == MARKUP_JSONLD_GRAPH:
        types = {node["@type"] for node in data["json-ld"][0]["@graph"]}
        assert types == {"Product", "BreadcrumbList", "Organization"}
    node = _product_node(data, syntax)
    canonical = BASE + product.path
    assert node["name"] == product.name
    assert node["sku"] == product.sku
    assert node["brand"] == {"@type": "Brand", "name": product.brand}
    assert node["category"] == product.category
    assert node["image"] == BASE + product.image
    assert float(node["aggregateRating"]["ratingValue"]) == product.rating
    assert int(node["aggregateRating"]["reviewCount"]) == product.review_count
    offer = node["offers"]
    assert offer["@type"] == "Offer"
    assert offer["price"] == format(catalog.price_on(product, day), "f")
    assert offer["priceCurrency"] == product.currency
    assert offer["availability"] == SCHEMA_AVAILABILITY[product.availability]
    assert offer["url"] == canonical


def _check_rdfa(nodes, product, price):
    def value(node, prop):
        return node[f"https://schema.org/{prop}"][0]

    by_id = {node["@id"]: node for node in nodes}
    item = next(n for n in nodes if n.get("@type") == ["https://schema.org/Product"])
    assert value(item, "name")["@value"] == product.name
    assert value(item, "sku")["@value"] == product.sku
    assert value(item, "category")["@value"] == product.category
    brand = by_id[value(item, "brand")["@id"]]
    assert value(brand, "name")["@value"] == product.brand
    rating = by_id[value(item, "aggregateRating")["@id"]]
    assert float(value(rating, "ratingValue")["@value"]) == product.rating
    offer = by_id[value(item, "offers")["@id"]]
    assert value(offer, "price")["@value"] == format(price, "f")
    assert value(offer, "priceCurrency")["@value"] == product.currency
    assert value(offer, "availability")["@id"] == SCHEMA_AVAILABILITY[product.availability]


def test_unrated_products_have_no_aggregate_rating(client, catalog):
    product = _first(catalog, MARKUP_JSONLD, rated=False)
    node = _product_node(_extract(client, product.path), "json-ld")
    assert "aggregateRating" not in node
    assert "offers" in node


def test_the_no_price_product_has_product_markup_without_price(client, page, catalog):
    product = catalog.by_sku(Catalog.NO_PRICE_SKU)
    data = _extract(client, product.path)
    nodes = [n for syntax in ("json-ld", "microdata", "rdfa") for n in data[syntax]]
    products = [n for n in nodes if "Product" in str(n.get("@type"))]
    assert len(products) == 1
    assert products[0]["sku"] == product.sku
    assert "offers" not in products[0]
    assert "price" not in str(products[0]).lower()
    html = page(product.path)
    assert html.xpath('//*[@class="price"]') == []
    assert html.xpath('string(//*[@class="price-on-request"])') == "Price on request"


def test_visible_price_matches_the_markup_including_euro_formatting(page, catalog, day):
    product = next(p for p in catalog.products if p.currency == "EUR" and p.base_price)
    text = page(product.path).xpath('string(//*[@class="price"])').strip()
    price = catalog.price_on(product, day)
    assert text.endswith(" €")
    integral, cents = format(price, "f").split(".")
    assert text.replace(".", "").replace(" €", "") == f"{int(integral)},{cents}"
