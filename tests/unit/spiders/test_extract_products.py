"""extract_products and extract_canonical on saved shop pages (tests/fixtures/pages)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from marshmallow import ValidationError

from sluice.schemas.items import ProductItemSchema, rejection_reason
from spiders.extract import extract_canonical, extract_products

PAGES = Path(__file__).resolve().parents[2] / "fixtures" / "pages"

FIELDS = list(ProductItemSchema().fields)


def page(name: str) -> bytes:
    return (PAGES / f"{name}.html").read_bytes()


def only(products: list[dict]) -> dict:
    assert len(products) == 1, products
    return products[0]


def assert_valid(product: dict) -> None:
    loaded = ProductItemSchema().load(product)
    assert loaded["external_id"] == product["external_id"]


def test_jsonld_product_page():
    url = "https://shop.northwind.example/products/aurora-2-wireless-headphones?utm_source=mail"
    product = only(extract_products(page("jsonld_product"), url))

    assert list(product) == FIELDS
    assert product["external_id"] == "NW-AUR2-BLK"
    assert product["name"] == "Aurora 2 Wireless Headphones & Case"
    assert product["brand"] == "Northwind"
    assert product["category"] == "Electronics > Audio > Headphones"
    assert product["price"] == "249.00"
    assert product["currency"] == "USD"
    assert product["availability"] == "in_stock"
    assert product["rating"] == 4.6
    assert product["review_count"] == 128
    assert product["image_url"] == (
        "https://shop.northwind.example/cdn/images/aurora-2-black-front.jpg"
    )
    assert product["url"] == (
        "https://shop.northwind.example/products/aurora-2-wireless-headphones?variant=4021"
    )
    assert_valid(product)


def test_canonical_url_wins_on_a_product_page():
    url = "https://shop.northwind.example/products/aurora-2-wireless-headphones?utm_source=mail"
    canonical = extract_canonical(page("jsonld_product"), url)
    assert canonical == "https://shop.northwind.example/products/aurora-2-wireless-headphones"

    product = only(extract_products(page("jsonld_product"), url, canonical_url=canonical))
    assert product["url"] == canonical


def test_jsonld_graph_page_resolves_references():
    url = "https://hearthandloom.example/shop/linen-apron/"
    product = only(extract_products(page("jsonld_graph"), url))

    assert product == {
        "external_id": "HL-APR-NAT",
        "name": "Linen Apron \u2013 Natural",
        # brand is an @id reference to the page's Organization node
        "brand": "Hearth & Loom",
        "category": "Kitchen",
        # price and currency only in the offer's priceSpecification
        "price": "34.00",
        "currency": "GBP",
        # LimitedAvailability keeps its own meaning (it is not folded into in_stock)
        "availability": "limited_availability",
        # 9.2 of bestRating 10, on the contract's 0-5 scale
        "rating": 4.6,
        "review_count": 37,
        "image_url": "https://hearthandloom.example/wp-content/uploads/2025/03/apron-natural.jpg",
        "url": "https://hearthandloom.example/shop/linen-apron/",
    }
    assert_valid(product)


def test_microdata_page():
    url = "https://gipfelwerk.example/de/p/bergfalke-trekkingrucksack-45-l"
    product = only(extract_products(page("microdata_product"), url))

    assert product == {
        "external_id": "BF-TR45-OLV",
        "name": "Bergfalke Trekkingrucksack 45 L",
        "brand": "Bergfalke",
        "category": "Outdoor > Rucks\u00e4cke",
        "price": "129.95",
        "currency": "EUR",
        "availability": "out_of_stock",
        "rating": 4.3,
        "review_count": 1204,
        "image_url": "https://gipfelwerk.example/de/p/media/bf-tr45-olive.jpg",
        "url": "https://gipfelwerk.example/p/bergfalke-trekkingrucksack-45-l",
    }
    assert_valid(product)


def test_rdfa_page():
    url = "https://ferrum.example/skillet-26"
    product = only(extract_products(page("rdfa_product"), url))

    assert product == {
        "external_id": "FK-SK26",
        "name": "Cast Iron Skillet 26 cm",
        "brand": "Ferrum",
        "category": "Cookware",
        "price": "89.00",
        "currency": "CAD",
        "availability": "preorder",
        "rating": 4.8,
        "review_count": 56,
        "image_url": "https://ferrum.example/img/skillet-26.jpg",
        "url": "https://ferrum.example/skillet-26",
    }
    assert_valid(product)


def test_same_product_in_jsonld_and_microdata_is_one_product():
    url = "https://kestrel.example/trailrunner-gtx.html"
    product = only(extract_products(page("jsonld_and_microdata"), url))

    # JSON-LD wins where both say something...
    assert product["name"] == "Trailrunner GTX"
    assert product["price"] == "139.99"
    assert product["brand"] == "Kestrel"
    # ...and microdata fills what JSON-LD leaves out.
    assert product["category"] == "Shoes"
    assert product["availability"] == "in_stock"
    assert product["rating"] == 4.1
    assert product["review_count"] == 19
    assert product["image_url"] == "https://kestrel.example/media/catalog/trailrunner-gtx.jpg"
    assert product["external_id"] == "KS-TR-GTX-42"
    assert_valid(product)


def test_broken_jsonld_block_is_logged_and_skipped(caplog):
    url = "https://bloomcoffee.example/products/pour-over-set"
    with caplog.at_level(logging.WARNING, logger="spiders.extract"):
        product = only(extract_products(page("broken_jsonld"), url))

    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert warnings[0].name.startswith("spiders.extract")
    assert url in warnings[0].getMessage()
    assert "JSON-LD" in warnings[0].getMessage()

    assert product["external_id"] == "BLM-PO-SET"
    assert product["brand"] == "Bloom Coffee Co."
    # The first offer has no price; the first one with a price gives price and availability.
    assert product["price"] == "59.50"
    assert product["currency"] == "AUD"
    assert product["availability"] == "in_stock"
    # Protocol-relative image URL
    assert product["image_url"] == "https://cdn.bloomcoffee.example/s/files/pour-over-set.png"
    assert product["url"] == url
    assert_valid(product)


def test_aggregate_offer_gives_the_lowest_price():
    url = "https://comparateur.example/lampe-lumo"
    product = only(extract_products(page("aggregate_offer"), url))

    assert product == {
        # no sku: the (numeric) gtin13
        "external_id": "3760123456789",
        "name": "Lampe de bureau Lumo LED",
        "brand": "Lumo",
        "category": None,
        "price": "39.90",
        "currency": "EUR",
        "availability": "unknown",
        "rating": None,
        "review_count": None,
        "image_url": "https://cdn.comparateur.example/img/lumo-led.webp",
        "url": url,
    }
    assert_valid(product)


def test_price_text_with_currency_symbol():
    url = "https://fenwick.example/beanie"
    product = only(extract_products(page("price_text_only"), url))

    # An IndividualProduct, the mainEntity of a microdata ItemPage
    assert product["name"] == "Hand-knitted Wool Beanie"
    assert product["brand"] == "Fenwick & Daughters"
    assert product["external_id"] == "FD-BN-07"
    assert product["price"] == "24.99"
    assert product["currency"] == "GBP"
    assert product["availability"] == "in_stock"
    assert product["url"] == url
    assert_valid(product)


def test_page_without_price_is_rejected_as_no_price():
    url = "https://toolingdirect.example/lathe/wl-900"
    product = only(extract_products(page("no_price"), url))

    assert product["price"] is None
    assert product["currency"] == "USD"
    assert product["availability"] == "out_of_stock"
    assert product["external_id"] == "TD-WL900"
    with pytest.raises(ValidationError) as error:
        ProductItemSchema().load(product)
    assert rejection_reason(error.value) == "no_price"


def test_listing_page_gives_every_product():
    url = "https://leafandkettle.example/collections/teapots?page=1"
    canonical = extract_canonical(page("listing"), url)
    products = extract_products(page("listing"), url, canonical_url=canonical)

    assert [p["name"] for p in products] == [
        "Cast Iron Teapot 0.8 L",
        "Glass Teapot with Infuser",
        "Porcelain Teapot, White",
    ]
    assert [p["price"] for p in products] == ["48.00", "32.50", "27.00"]
    # BackOrder keeps its own meaning (it is not folded into preorder)
    assert [p["availability"] for p in products] == ["in_stock", "backorder", "out_of_stock"]
    # Each product keeps its own (resolved) URL; the listing's canonical is no product's URL.
    assert [p["url"] for p in products] == [
        "https://leafandkettle.example/products/cast-iron-teapot",
        "https://leafandkettle.example/products/glass-teapot",
        "https://leafandkettle.example/products/porcelain-teapot-white",
    ]
    # Without a sku the canonical product URL identifies it.
    assert [p["external_id"] for p in products] == [
        "LK-TP-CI08",
        "LK-TP-GL10",
        "https://leafandkettle.example/products/porcelain-teapot-white",
    ]
    assert products[0]["image_url"] == "https://leafandkettle.example/img/teapot-ci08.jpg"
    assert products[2]["image_url"] is None
    for product in products:
        assert_valid(product)


NO_MARKUP_SELECTORS = {
    "name": "h1.title::text",
    "brand": ".brand",
    "external_id": ".sku::attr(data-sku)",
    "category": "ol.breadcrumbs li:not(:first-child) a::text",
    "price": ".price-box .price::text",
    "availability": "p.stock::text",
    "rating": ".rating .stars::text",
    "review_count": ".rating a::text",
    "image_url": "img.gallery-main::attr(src)",
}


def test_page_without_markup_and_no_selectors_has_no_products():
    url = "https://timberandco.example/living-room/shelving/oak-bookshelf"
    assert extract_products(page("no_markup"), url) == []


def test_selectors_describe_a_page_without_markup():
    url = "https://timberandco.example/living-room/shelving/oak-bookshelf?utm_campaign=spring"
    product = only(extract_products(page("no_markup"), url, selectors=NO_MARKUP_SELECTORS))

    assert product == {
        "external_id": "TC-OAK-5",
        "name": "Oak Bookshelf, 5 shelves",
        "brand": "Timber & Co",
        "category": "Living room > Shelving",
        "price": "1049.00",
        "currency": "USD",
        "availability": "in_stock",
        "rating": 4.7,
        "review_count": 23,
        "image_url": "https://timberandco.example/images/oak-bookshelf-5.jpg",
        "url": url,
    }
    assert_valid(product)


def test_selectors_without_an_identifier_fall_back_to_the_canonical_url():
    url = "https://timberandco.example/living-room/shelving/oak-bookshelf?utm_campaign=spring#top"
    selectors = {"name": "h1.title", "price": ".price"}
    product = only(extract_products(page("no_markup"), url, selectors=selectors))

    assert product["name"] == "Oak Bookshelf, 5 shelves"
    assert product["url"] == url
    assert product["external_id"] == (
        "https://timberandco.example/living-room/shelving/oak-bookshelf"
    )


def test_selectors_that_find_no_name_give_no_product():
    url = "https://timberandco.example/oak-bookshelf"
    selectors = {"name": "h2.missing::text", "price": ".price::text"}
    assert extract_products(page("no_markup"), url, selectors=selectors) == []


def test_selectors_fill_gaps_in_markup_but_do_not_override_it():
    url = "https://bloomcoffee.example/products/pour-over-set"
    selectors = {"name": "h1::text", "category": "title::text", "price": "h1::text"}
    product = only(extract_products(page("broken_jsonld"), url, selectors=selectors))

    assert product["category"] == "Ceramic Pour-Over Set | Bloom Coffee Co."
    assert product["price"] == "59.50"


def test_selectors_with_a_product_container_on_a_listing():
    url = "https://leafandkettle.example/collections/teapots"
    html = page("listing").replace(b'type="application/ld+json"', b'type="text/plain"')
    selectors = {"product": "li.card", "name": "a", "url": "a::attr(href)", "price": ".price"}
    products = extract_products(html, url, selectors=selectors)

    assert [(p["name"], p["price"], p["currency"]) for p in products] == [
        ("Cast Iron Teapot 0.8 L", "48.00", "USD"),
        ("Glass Teapot with Infuser", "32.50", "USD"),
        ("Porcelain Teapot, White", "27.00", "USD"),
    ]
    assert products[1]["url"] == "https://leafandkettle.example/products/glass-teapot"
    assert products[1]["external_id"] == products[1]["url"]


def test_unknown_selector_keys_are_an_error():
    with pytest.raises(ValueError, match="unknown selector keys"):
        extract_products(page("no_markup"), "https://x.example/", selectors={"title": "h1"})


def test_canonical_missing():
    assert extract_canonical(page("microdata_product"), "https://gipfelwerk.example/p") is None
    assert extract_canonical(b"", "https://gipfelwerk.example/p") is None


def test_products_from_text_and_bytes_are_the_same():
    url = "https://gipfelwerk.example/de/p/bergfalke-trekkingrucksack-45-l"
    text = page("microdata_product").decode("utf-8")
    assert extract_products(text, url) == extract_products(page("microdata_product"), url)
