"""Cursors survive a round trip and refuse what is not theirs; cache keys are normalised.

(Data versions are not in the key: they stamp the stored response, see api.gate.)
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from api.cache import cache_key
from api.errors import ApiError
from api.pagination import decode_cursor, encode_cursor


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("int", 41),
        ("decimal", Decimal("19.9900")),
        ("datetime", datetime(2026, 11, 23, 8, 30, tzinfo=UTC)),
        ("str", "Widget, 50% off"),
    ],
)
def test_a_cursor_round_trips(kind, value):
    cursor = encode_cursor("price", value, 7)
    assert decode_cursor(cursor, "price", kind) == (value, 7)


@pytest.mark.parametrize(
    "cursor",
    ["", "%%%", "bm90IGpzb24", encode_cursor("name", "x", 1), encode_cursor("price", "x", True)],
)
def test_a_foreign_or_broken_cursor_is_a_400_naming_cursor(cursor):
    with pytest.raises(ApiError) as caught:
        decode_cursor(cursor, "price", "decimal")
    assert caught.value.status == 400 and "cursor" in caught.value.details["parameters"]


def test_cache_keys_ignore_parameter_order():
    one = cache_key("/api/v1/products", [("brand", "A"), ("limit", "5")])
    same = cache_key("/api/v1/products", [("limit", "5"), ("brand", "A")])
    assert one == same


@pytest.mark.parametrize(
    ("path", "args"),
    [("/api/v1/quotes", [("brand", "A")]), ("/api/v1/products", [("brand", "B")])],
)
def test_cache_keys_differ_by_path_and_parameters(path, args):
    assert cache_key(path, args) != cache_key("/api/v1/products", [("brand", "A")])
