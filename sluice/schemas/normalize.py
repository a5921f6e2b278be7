"""Turning what web pages publish into the values of the item contract.

Pages say "$1,299.00", "http://schema.org/InStock" or "In stock"; the contract wants
"1299.00", "USD" and "in_stock". Each function returns None when it cannot tell, so the
schema can reject the item with a reason instead of guessing.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from sluice.schemas.currencies import ISO_4217

AVAILABILITY = ("in_stock", "out_of_stock", "preorder", "unknown")

_AVAILABILITY_WORDS = {
    "instock": "in_stock",
    "instoreonly": "in_stock",
    "onlineonly": "in_stock",
    "limitedavailability": "in_stock",
    "outofstock": "out_of_stock",
    "soldout": "out_of_stock",
    "discontinued": "out_of_stock",
    "preorder": "preorder",
    "presale": "preorder",
    "backorder": "preorder",
}

_CURRENCY_SYMBOLS = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR", "₩": "KRW"}


def availability(value: object) -> str:
    """Map a schema.org ItemAvailability (URL or word) or free text to the contract's values."""
    if value is None:
        return "unknown"
    text = str(value).strip().rsplit("/", 1)[-1]
    key = re.sub(r"[^a-z]", "", text.lower())
    return _AVAILABILITY_WORDS.get(key, "unknown")


def price(value: object) -> str | None:
    """A decimal string ("1299.00") from a number or text such as "$1,299.00" or "1.299,00 €".

    Returns None for missing, non-numeric, negative or non-finite values.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float | Decimal):
        text = str(value)
    else:
        text = re.sub(r"[^\d.,\-]", "", str(value))
        if not text:
            return None
        # "1.299,00" (comma decimal) vs "1,299.00" (point decimal): the last separator decides.
        if "," in text and (text.rfind(",") > text.rfind(".")):
            text = text.replace(".", "").replace(",", ".")
        else:
            text = text.replace(",", "")
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    if not number.is_finite() or number < 0:
        return None
    return format(
        number.quantize(Decimal("0.01")) if number.as_tuple().exponent > -2 else number, "f"
    )


def currency(value: object, price_text: object = None) -> str | None:
    """An ISO 4217 code from a code ("usd") or, failing that, a symbol in the price text."""
    if value is not None:
        code = str(value).strip().upper()
        if code in ISO_4217:
            return code
        if code in _CURRENCY_SYMBOLS:
            return _CURRENCY_SYMBOLS[code]
    if price_text is not None:
        for symbol, code in _CURRENCY_SYMBOLS.items():
            if symbol in str(price_text):
                return code
    return None
