"""extract_products on the many shapes schema.org markup takes, as small inline pages."""

from __future__ import annotations

import json

import pytest

from spiders.extract import extract_products

URL = "https://shop.example/p/1"


def jsonld(*blocks: object, script_type: str = "application/ld+json") -> str:
    scripts = "".join(
        f'<script type="{script_type}">{json.dumps(b) if not isinstance(b, str) else b}</script>'
        for b in blocks
    )
    return f"<html><head>{scripts}</head><body></body></html>"


def offer(price: object = "10.00", currency: str = "USD", **extra: object) -> dict:
    return {"@type": "Offer", "price": price, "priceCurrency": currency, **extra}


@pytest.mark.parametrize(
    "product_type",
    [
        "Product",
        ["Product", "Thing"],
        "http://schema.org/Product",
        "https://schema.org/Product",
        ["https://schema.org/IndividualProduct"],
        "ProductModel",
    ],
)
def test_product_types(product_type):
    html = jsonld(
        {
            "@context": "https://schema.org",
            "@type": product_type,
            "name": "Kettle",
            "offers": offer(),
        }
    )
    [product] = extract_products(html, URL)
    assert (product["name"], product["price"], product["currency"]) == ("Kettle", "10.00", "USD")


def test_pages_without_products():
    assert extract_products("", URL) == []
    assert extract_products(b"   ", URL) == []
    assert extract_products(jsonld({"@type": "Organization", "name": "Shop"}), URL) == []


def test_jsonld_script_type_with_charset_and_capitals():
    html = jsonld(
        {"@type": "Product", "name": "Kettle", "offers": offer()},
        script_type="Application/LD+JSON; charset=utf-8",
    )
    assert [p["name"] for p in extract_products(html, URL)] == ["Kettle"]


def test_product_as_inline_main_entity_of_a_webpage():
    html = jsonld(
        {
            "@context": "https://schema.org",
            "@type": "WebPage",
            "mainEntity": {"@type": "Product", "name": "Kettle", "sku": "K1", "offers": offer()},
        }
    )
    [product] = extract_products(html, URL)
    assert product["external_id"] == "K1"


def test_product_defined_twice_by_id_is_merged_once():
    html = jsonld(
        {"@type": "Product", "@id": "#kettle", "name": "Kettle", "offers": offer()},
        {"@type": "WebPage", "mainEntity": {"@id": "#kettle", "sku": "K1"}},
    )
    [product] = extract_products(html, URL)
    assert (product["name"], product["external_id"]) == ("Kettle", "K1")


def test_offer_referenced_by_id_and_image_object():
    html = jsonld(
        {
            "@context": "https://schema.org",
            "@graph": [
                {
                    "@type": "Product",
                    "name": "Kettle",
                    "offers": {"@id": "#offer"},
                    "image": [{"@type": "ImageObject", "contentUrl": "/img/kettle.png"}],
                },
                {"@type": "Offer", "@id": "#offer", "price": 12, "priceCurrency": "eur"},
            ],
        }
    )
    [product] = extract_products(html, URL)
    assert (product["price"], product["currency"]) == ("12.00", "EUR")
    assert product["image_url"] == "https://shop.example/img/kettle.png"


def test_related_products_are_not_the_page_product():
    html = jsonld(
        {
            "@type": "Product",
            "name": "Kettle",
            "offers": offer(),
            "isRelatedTo": [{"@type": "Product", "name": "Teapot", "offers": offer("30")}],
        }
    )
    assert [p["name"] for p in extract_products(html, URL)] == ["Kettle"]


def test_product_group_stands_for_its_variants():
    html = jsonld(
        {
            "@type": "ProductGroup",
            "name": "Trail Sock",
            "productGroupID": "TS",
            "brand": {"@type": "Brand", "name": "Kestrel"},
            "image": "/img/sock.jpg",
            "hasVariant": [
                {"@type": "Product", "name": "Trail Sock S", "sku": "TS-S", "offers": offer("9")},
                {"@type": "Product", "sku": "TS-M", "offers": offer("9.5")},
            ],
        }
    )
    products = extract_products(html, URL, canonical_url="https://shop.example/p/1")
    assert [(p["external_id"], p["name"], p["price"]) for p in products] == [
        ("TS-S", "Trail Sock S", "9.00"),
        ("TS-M", "Trail Sock", "9.50"),
    ]
    assert {p["brand"] for p in products} == {"Kestrel"}
    assert {p["image_url"] for p in products} == {"https://shop.example/img/sock.jpg"}


def test_product_group_without_variants_is_a_product():
    html = jsonld({"@type": "ProductGroup", "name": "Trail Sock", "offers": offer()})
    assert [p["name"] for p in extract_products(html, URL)] == ["Trail Sock"]


def test_variant_takes_what_it_lacks_from_the_group_it_is_a_variant_of():
    html = jsonld(
        {
            "@type": "Product",
            "sku": "TS-S",
            "offers": offer(),
            "isVariantOf": {"@type": "ProductGroup", "name": "Trail Sock", "brand": "Kestrel"},
        }
    )
    [product] = extract_products(html, URL)
    assert (product["name"], product["brand"]) == ("Trail Sock", "Kestrel")


def test_product_offered_by_an_offer():
    html = jsonld(
        {
            "@type": "Offer",
            "price": "5",
            "priceCurrency": "GBP",
            "itemOffered": {"@type": "Product", "name": "Tea towel"},
        }
    )
    [product] = extract_products(html, URL)
    assert (product["name"], product["price"], product["currency"]) == ("Tea towel", "5.00", "GBP")


@pytest.mark.parametrize(
    ("offers", "price", "currency"),
    [
        ({"@type": "Offer", "price": "1.299,00 €"}, "1299.00", "EUR"),
        ({"@type": "Offer", "price": "$1,299.00"}, "1299.00", "USD"),
        ([offer(""), offer("0"), offer("7.5", "JPY")], "7.50", "JPY"),
        (
            {"@type": "AggregateOffer", "priceCurrency": "USD", "offers": [offer("3")]},
            "3.00",
            "USD",
        ),
        (
            {
                "@type": "Offer",
                "priceCurrency": "CHF",
                "priceSpecification": [{"@type": "UnitPriceSpecification", "price": 19.9}],
            },
            "19.90",
            "CHF",
        ),
        ({"@type": "Offer", "availability": "InStock"}, None, None),
    ],
)
def test_prices_from_offers(offers, price, currency):
    html = jsonld({"@type": "Product", "name": "Kettle", "offers": offers})
    [product] = extract_products(html, URL)
    assert (product["price"], product["currency"]) == (price, currency)


@pytest.mark.parametrize(
    ("rating", "value", "count"),
    [
        ({"ratingValue": 4, "ratingCount": 3}, 4.0, 3),
        ({"ratingValue": "92", "bestRating": "100", "reviewCount": "1,204"}, 4.6, 1204),
        ({"ratingValue": 8}, None, None),
        ({"ratingValue": "n/a", "reviewCount": -1}, None, None),
    ],
)
def test_ratings(rating, value, count):
    html = jsonld(
        {
            "@type": "Product",
            "name": "Kettle",
            "offers": offer(),
            "aggregateRating": {"@type": "AggregateRating", **rating},
        }
    )
    [product] = extract_products(html, URL)
    assert (product["rating"], product["review_count"]) == (value, count)


def test_variants_with_one_name_and_different_skus_stay_apart():
    html = jsonld(
        {"@type": "Product", "name": "Kettle", "sku": "K-RED", "offers": offer("10")},
        {"@type": "Product", "name": "Kettle", "sku": "K-BLUE", "offers": offer("11")},
    )
    assert [p["external_id"] for p in extract_products(html, URL)] == ["K-RED", "K-BLUE"]


def test_jsonld_and_rdfa_for_one_product_are_merged():
    html = (
        '<html><head><script type="application/ld+json">'
        '{"@type": "Product", "name": "Kettle", "mpn": "K-1",'
        ' "offers": {"@type": "Offer", "price": "10", "priceCurrency": "USD"}}'
        '</script></head><body vocab="http://schema.org/">'
        '<div typeof="Product"><span property="name">Kettle (steel)</span>'
        '<span property="mpn">K-1</span><span property="brand">Ferrum</span></div>'
        "</body></html>"
    )
    [product] = extract_products(html, URL)
    assert (product["name"], product["brand"], product["external_id"]) == (
        "Kettle",
        "Ferrum",
        "K-1",
    )


def test_microdata_item_without_itemtype():
    html = (
        '<div itemscope itemtype="https://schema.org/Product"><h1 itemprop="name">Kettle</h1>'
        '<div itemprop="offers" itemscope><span itemprop="price">€ 12,50</span></div></div>'
    )
    [product] = extract_products(html, URL)
    assert (product["price"], product["currency"]) == ("12.50", "EUR")


def test_relative_links_follow_the_base_element():
    html = (
        '<html><head><base href="https://cdn.shop.example/assets/">'
        '<script type="application/ld+json">'
        '{"@type": "Product", "name": "Kettle", "image": "kettle.jpg", "url": "../p/kettle",'
        ' "offers": {"@type": "Offer", "price": "10", "priceCurrency": "USD"}}'
        "</script></head></html>"
    )
    [product] = extract_products(html, URL)
    assert product["image_url"] == "https://cdn.shop.example/assets/kettle.jpg"
    assert product["url"] == "https://cdn.shop.example/p/kettle"


def test_non_http_and_data_images_are_skipped():
    html = jsonld(
        {
            "@type": "Product",
            "name": "Kettle",
            "offers": offer(),
            "image": ["data:image/png;base64,AAAA", "/img/kettle 1.jpg"],
        }
    )
    [product] = extract_products(html, URL)
    assert product["image_url"] == "https://shop.example/img/kettle%201.jpg"


def test_bytes_in_a_declared_legacy_encoding():
    html = (
        '<html><head><meta charset="iso-8859-1"></head><body>'
        '<div itemscope itemtype="http://schema.org/Product">'
        '<span itemprop="name">Crème brûlée set</span>'
        '<span itemprop="price">£9.99</span></div></body></html>'
    ).encode("iso-8859-1")
    [product] = extract_products(html, URL)
    assert product["name"] == "Crème brûlée set"
    assert (product["price"], product["currency"]) == ("9.99", "GBP")


def test_text_with_an_xml_declaration():
    html = '<?xml version="1.0" encoding="utf-8"?>\n' + jsonld(
        {"@type": "Product", "name": "Kettle", "offers": offer()}
    )
    assert [p["name"] for p in extract_products(html, URL)] == ["Kettle"]
