"""Turning a fetched body into text and an lxml tree that extruct can read."""

from __future__ import annotations

from extruct.utils import parse_html, parse_xmldom_html
from lxml import etree
from lxml.html import HtmlElement
from w3lib.encoding import html_to_unicode
from w3lib.html import get_base_url


def to_text(html: str | bytes) -> str:
    """The page as text; bytes are decoded by BOM, then declared charset, then UTF-8."""
    if isinstance(html, bytes):
        return html_to_unicode(None, html)[1]
    return html


def base_url(text: str, url: str) -> str:
    """The URL relative links resolve against: the page URL, or its ``<base href>``."""
    return get_base_url(text, url)


def parse(text: str, *, for_rdfa: bool = False) -> HtmlElement | None:
    """An lxml tree of the page, or None when there is nothing to parse.

    RDFa needs extruct's DOM-flavoured tree; microdata and JSON-LD read it as well, so one
    parse serves all three syntaxes.
    """
    if not text.strip():
        return None
    parser = parse_xmldom_html if for_rdfa else parse_html
    try:
        # Bytes, because lxml refuses text that starts with an XML encoding declaration.
        return parser(text.encode("utf-8"), encoding="utf-8")
    except (etree.ParserError, ValueError):
        return None
