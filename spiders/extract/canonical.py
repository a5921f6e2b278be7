"""The canonical URL a page declares for itself."""

from __future__ import annotations

from spiders.extract import document
from spiders.extract.values import absolute_url


def extract_canonical(html: str | bytes, url: str) -> str | None:
    """The absolute URL of the page's ``<link rel="canonical">``, or None when it has none."""
    text = document.to_text(html)
    tree = document.parse(text)
    if tree is None:
        return None
    base = document.base_url(text, url)
    for link in tree.iter("link"):
        rels = (link.get("rel") or "").lower().split()
        if "canonical" in rels:
            canonical = absolute_url(link.get("href"), base)
            if canonical:
                return canonical
    return None
