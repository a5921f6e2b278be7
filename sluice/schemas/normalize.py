"""Turning what web pages publish into the values of the item contract.

Pages say "$1,299.00", "http://schema.org/InStock" or "In stock"; the contract wants
"1299.00", "USD" and "in_stock". Each function returns None when it cannot tell, so the
schema can reject the item with a reason instead of guessing.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from sluice.schemas.currencies import ISO_4217

#: one value per schema.org ItemAvailability, each keeping its own meaning, and "unknown"
AVAILABILITY = (
    "in_stock",
    "out_of_stock",
    "preorder",
    "presale",
    "backorder",
    "sold_out",
    "discontinued",
    "limited_availability",
    "in_store_only",
    "online_only",
    "unknown",
)

#: an ItemAvailability name (or the same words in free text), lower case without separators
_AVAILABILITY_WORDS = {
    value.replace("_", ""): value for value in AVAILABILITY if value != "unknown"
}

_CURRENCY_SYMBOLS = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR", "₩": "KRW"}


def availability(value: object) -> str:
    """Map a schema.org ItemAvailability (``https://schema.org/InStock``, ``http://...``,
    ``schema:InStock``, ``InStock``) or the same words as text ("In stock", "Pre-order") to
    the contract's value; anything else is "unknown"."""
    if value is None:
        return "unknown"
    text = re.split(r"[/:]", str(value).strip())[-1]
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
