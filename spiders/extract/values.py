"""Small parsers for the loose values pages publish: text, numbers, counts and links."""

from __future__ import annotations

import html
import math
import re
from urllib.parse import urljoin, urlsplit

from w3lib.url import safe_url_string

_SPACE = re.compile(r"\s+")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
# "1.204" or "1 204" is a thousands-separated count, not a decimal; check it before plain digits.
_COUNT = re.compile(r"\d{1,3}(?:[.,\u00a0\u202f' ]\d{3})+(?![\d.,])|\d+")


def as_list(value: object) -> list:
    """The value as a list: None is empty, a list stays, anything else is wrapped."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def first(value: object) -> object:
    """The first non-empty element of a list, or the value itself when it is not a list."""
    for element in as_list(value):
        if element is not None and element != "":
            return element
    return None


def clean_text(value: object) -> str | None:
    """Text with entities decoded and whitespace collapsed; None when empty or not text-like.

    JSON-LD is often written by templates that HTML-escape it ("Tea &amp; Cups"), so entities
    are decoded here too.
    """
    if isinstance(value, list):
        value = first(value)
    if value is None or isinstance(value, bool | dict):
        return None
    text = _SPACE.sub(" ", html.unescape(str(value))).strip()
    return text or None


def to_float(value: object) -> float | None:
    """A finite float from a number or text such as "4,3" or "4.7 out of 5"."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    else:
        text = clean_text(value)
        match = _NUMBER.search(text) if text else None
        if match is None:
            return None
        number = float(match.group().replace(",", "."))
    return number if math.isfinite(number) else None


def to_int(value: object) -> int | None:
    """A non-negative int from a number or text such as "1,204" or "(23 reviews)"."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float):
        return int(value) if math.isfinite(value) and value >= 0 else None
    text = clean_text(value)
    match = _COUNT.search(text) if text else None
    if match is None:
        return None
    return int(re.sub(r"\D", "", match.group()))


def absolute_url(value: object, base_url: str) -> str | None:
    """An absolute http(s) URL for a possibly relative link; None for anything else."""
    text = clean_text(value)
    if text is None:
        return None
    url = urljoin(base_url, text)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    # Pages carry spaces and non-ASCII in links; the item contract wants a valid URL.
    return safe_url_string(url)
