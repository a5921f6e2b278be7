"""The demo catalog: deterministic from its seed, with daily prices and the special skus."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

from demo.catalog import Catalog

DAY = date(2026, 3, 2)


def test_same_seed_same_products_and_different_seed_different_products(catalog):
    assert Catalog(seed=7).products == catalog.products
    other = Catalog(seed=8)
    assert [p.sku for p in other.products] == [p.sku for p in catalog.products]
    assert [p.name for p in other.products] != [p.name for p in catalog.products]
    assert [p.base_price for p in other.products] != [p.base_price for p in catalog.products]


def test_size_categories_and_fields(catalog):
    assert len(catalog.products) >= 520
    assert len({p.sku for p in catalog.products}) == len(catalog.products)
    assert catalog.categories[0] == "laptops"
    assert "gadgets" in catalog.categories
    assert len(catalog.listed("gadgets")) == 24
    per_category = Counter(p.category for p in catalog.products)
    assert set(per_category) == set(catalog.categories)
    for category in catalog.categories:
        brands = {p.brand for p in catalog.products if p.category == category}
        assert len(brands) >= 3, category
    for product in catalog.products:
        assert product.sku.startswith("SKU-") and len(product.sku) == 10
        assert product.path == f"/shop/p/{product.sku}-{product.slug}"
        assert product.currency in {"USD", "EUR"}
        if product.rating is not None:
            assert 1.0 <= product.rating <= 5.0
            assert round(product.rating, 1) == product.rating
            assert product.review_count >= 1
    availability = Counter(p.availability for p in catalog.products)
    assert set(availability) == {"in_stock", "out_of_stock", "preorder"}
    assert availability["in_stock"] > len(catalog.products) / 2
    assert any(p.rating is None for p in catalog.products)
    assert Counter(p.currency for p in catalog.products)["EUR"] >= 1


def test_by_sku(catalog):
    product = catalog.products[10]
    assert catalog.by_sku(product.sku) is product
    assert catalog.by_sku("SKU-999999") is None


def test_prices_change_for_a_share_of_products_from_one_day_to_the_next(catalog):
    priced = [p for p in catalog.products if p.base_price is not None]
    today = {p.sku: catalog.price_on(p, DAY) for p in priced}
    yesterday = {p.sku: catalog.price_on(p, DAY - timedelta(days=1)) for p in priced}
    changed = [sku for sku in today if today[sku] != yesterday[sku]]
    assert 0.15 * len(priced) < len(changed) < 0.45 * len(priced)
    for sku in changed:
        ratio = today[sku] / yesterday[sku]
        assert Decimal("0.85") < ratio < Decimal("1.15"), sku


def test_prices_are_positive_with_two_decimals_and_deterministic(catalog):
    again = Catalog(seed=7)
    for offset in range(0, 400, 37):
        day = DAY + timedelta(days=offset)
        for product in catalog.products[::7]:
            price = catalog.price_on(product, day)
            if product.sku == Catalog.NO_PRICE_SKU:
                assert price is None
                continue
            assert price > 0
            assert price.as_tuple().exponent == -2
            assert again.price_on(again.by_sku(product.sku), day) == price


def test_the_no_price_product_has_no_price_on_any_day(catalog):
    product = catalog.by_sku(Catalog.NO_PRICE_SKU)
    assert product is not None
    assert catalog.price_on(product, DAY) is None
    assert [p for p in catalog.products if catalog.price_on(p, DAY) is None] == [product]


def test_special_skus_exist_and_private_ones_are_not_listed(catalog):
    assert catalog.by_sku(Catalog.SLOW_SKU) is not None
    listed = {p.sku for category in catalog.categories for p in catalog.listed(category)}
    assert Catalog.SLOW_SKU in listed
    assert Catalog.NO_PRICE_SKU in listed
    assert Catalog.FLAKY_LINKED_SKU in listed
    for sku in Catalog.PRIVATE_SKUS:
        assert catalog.by_sku(sku) is not None
        assert sku not in listed
    assert [p.sku for p in catalog.private_products()] == list(Catalog.PRIVATE_SKUS)


def test_expected_public_products(catalog):
    expected = catalog.expected_public_products(DAY, base_url="http://shop.test:8000/")
    assert Catalog.NO_PRICE_SKU not in expected
    assert not set(Catalog.PRIVATE_SKUS) & set(expected)
    gadgets = {p.sku for p in catalog.listed("gadgets")}
    assert gadgets <= set(expected)
    assert len(expected) == len(catalog.products) - len(Catalog.PRIVATE_SKUS) - 1
    product = catalog.by_sku(Catalog.SLOW_SKU)
    item = expected[product.sku]
    assert item == {
        "external_id": product.sku,
        "name": product.name,
        "brand": product.brand,
        "category": product.category,
        "price": format(catalog.price_on(product, DAY), "f"),
        "currency": product.currency,
        "availability": product.availability,
        "rating": product.rating,
        "review_count": product.review_count,
        "image_url": f"http://shop.test:8000/shop/img/{product.sku}.svg",
        "url": f"http://shop.test:8000{product.path}",
    }
    assert all(len(value["price"].split(".")[1]) == 2 for value in expected.values())
