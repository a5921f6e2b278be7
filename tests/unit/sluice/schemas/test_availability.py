"""Every schema.org ItemAvailability keeps its own meaning (none is folded into another)."""

from __future__ import annotations

import pytest

from sluice.schemas.normalize import AVAILABILITY, availability

SCHEMA_ORG = {
    "InStock": "in_stock",
    "OutOfStock": "out_of_stock",
    "PreOrder": "preorder",
    "PreSale": "presale",
    "BackOrder": "backorder",
    "SoldOut": "sold_out",
    "Discontinued": "discontinued",
    "LimitedAvailability": "limited_availability",
    "InStoreOnly": "in_store_only",
    "OnlineOnly": "online_only",
}


@pytest.mark.parametrize("form", ["https://schema.org/{}", "http://schema.org/{}", "schema:{}",
                                  "{}"])  # fmt: skip
@pytest.mark.parametrize(("name", "value"), SCHEMA_ORG.items())
def test_each_item_availability_in_every_form_keeps_its_meaning(form, name, value):
    assert availability(form.format(name)) == value


def test_every_contract_value_but_unknown_is_an_item_availability():
    assert set(SCHEMA_ORG.values()) | {"unknown"} == set(AVAILABILITY)


@pytest.mark.parametrize(
    ("text", "value"),
    [("In stock", "in_stock"), ("Pre-order", "preorder"), ("Sold out", "sold_out"),
     ("maybe", "unknown"), (None, "unknown"), ("", "unknown")],
)  # fmt: skip
def test_text_forms_and_unknowns(text, value):
    assert availability(text) == value
