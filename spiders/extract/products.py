"""Every product a page describes, as dicts with the item contract's field names.

Markup is read in order of trust: JSON-LD (written for machines), then microdata, then RDFa.
The same product published in several syntaxes becomes one record, the earlier syntax winning
and the later ones filling its gaps; per-site CSS selectors fill what is still missing, or
describe the product when the page has no markup at all.
"""

from __future__ import annotations

from spiders.extract import document, graph, markup
from spiders.extract import selectors as css
from spiders.extract.candidate import FIELDS, Candidate, merge
from spiders.extract.canonical import extract_canonical
from spiders.extract.fields import candidate
from spiders.extract.values import absolute_url
from spiders.urls import canonicalize

__all__ = ["extract_canonical", "extract_products"]


def extract_products(
    html: str | bytes,
    url: str,
    *,
    selectors: dict[str, str] | None = None,
    canonical_url: str | None = None,
) -> list[dict]:
    """The products on a page, one dict per product with the contract's fields.

    ``url`` is the page's address (relative links resolve against it, or its ``<base>``);
    ``selectors`` are optional per-site CSS queries (see :mod:`spiders.extract.selectors`);
    ``canonical_url`` is the page's canonical address, the product URL of a one-product page.
    Fields the page does not give are None (availability "unknown"), so validation can reject
    the item with a reason. Raises ValueError for a selector key that names no field.
    """
    if selectors:
        css.check(selectors)
    text = document.to_text(html)
    base = document.base_url(text, url)
    found = _from_markup(text, url, base)
    if selectors:
        found = _with_selectors(found, css.candidates(text, base, selectors))
    canonical = absolute_url(canonical_url, url) if canonical_url else None
    return [_finish(c, url, canonical, single=len(found) == 1) for c in found]


def _from_markup(text: str, url: str, base: str) -> list[Candidate]:
    tree = document.parse(text, for_rdfa=True)
    if tree is None:
        return []
    syntaxes = [
        markup.jsonld_items(tree, url),
        markup.syntax_items(tree, "microdata", base, url),
    ]
    if markup.has_rdfa_types(tree):
        syntaxes.append(markup.syntax_items(tree, "rdfa", base, url))
    records = [
        candidate(found, base)
        for items in syntaxes
        for found in graph.find_products(graph.build(items))
    ]
    return merge(records)


def _with_selectors(found: list[Candidate], selected: list[Candidate]) -> list[Candidate]:
    """Markup records with their gaps filled from the selectors, or the selectors' records."""
    if not found:
        return [c for c in selected if c.fields["name"]]
    for record in found:
        match = next((s for s in selected if record.same_product(s)), None)
        if match is None and len(found) == 1 and len(selected) == 1:
            # One product by markup, one by selectors: the same product, however named.
            match = selected[0]
        if match is not None:
            record.fill_gaps(match)
    return found


def _finish(record: Candidate, page_url: str, canonical: str | None, *, single: bool) -> dict:
    fields = dict(record.fields)
    own = fields["url"]
    # On a listing page the canonical address is the listing's, not each product's.
    if canonical and (single or not own):
        fields["url"] = canonical
    else:
        fields["url"] = own or page_url
    if not fields["external_id"]:
        fields["external_id"] = canonicalize(str(fields["url"]))
    return {name: fields[name] for name in FIELDS}
