"""Running extruct over a parsed page, one syntax and one JSON-LD block at a time.

extruct decodes all JSON-LD blocks of a page in one go, so a single malformed block (a template
that rendered ``"price": ,``) costs every other block too. Each block is handed to extruct on
its own here, and a broken one is logged and skipped.
"""

from __future__ import annotations

import logging

import extruct
from extruct.jsonld import JsonLdExtractor
from lxml import etree
from lxml.html import HtmlElement

logger = logging.getLogger(__name__)

# extruct matches type="application/ld+json" exactly; pages also write it in capitals or with
# a charset parameter.
_JSONLD_SCRIPTS = etree.XPath(
    "//script[starts-with(normalize-space(translate(@type,"
    " 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')), 'application/ld+json')]"
)

_TYPED_RDFA = etree.XPath("boolean(//*[@typeof])")


def has_rdfa_types(tree: HtmlElement) -> bool:
    """Whether any element declares an RDFa type; without one there is no RDFa Product.

    pyRdfa takes about half a second on a large page, so pages without ``typeof`` skip it.
    """
    return bool(_TYPED_RDFA(tree))


def jsonld_items(tree: HtmlElement, url: str) -> list:
    """Every top-level JSON-LD item of the page, in document order, skipping broken blocks."""
    extractor = JsonLdExtractor()
    items: list = []
    for position, script in enumerate(_JSONLD_SCRIPTS(tree), start=1):
        source = script.xpath("string()")
        if not source.strip():
            continue
        block = etree.Element("script", type="application/ld+json")
        block.text = source
        try:
            items.extend(extractor.extract_items(block))
        except (ValueError, RecursionError) as error:
            logger.warning("skipping malformed JSON-LD block %d on %s: %s", position, url, error)
    return items


def syntax_items(tree: HtmlElement, syntax: str, base_url: str, url: str) -> list:
    """The items of one syntax ("microdata" or "rdfa"), or none when extruct fails on it.

    Syntaxes run one at a time because extruct's ``errors="log"`` combined with ``uniform=True``
    raises KeyError when microdata extraction itself failed.
    """
    try:
        output = extruct.extract(
            tree, base_url=base_url, syntaxes=[syntax], uniform=True, errors="strict"
        )
    except Exception:
        logger.warning("could not read %s markup on %s", syntax, url, exc_info=True)
        return []
    return output.get(syntax, [])
