"""Reading sitemaps (XML, or gzipped XML): the page URLs of a ``urlset`` or the sitemaps of a
``sitemapindex``, each with its ``lastmod`` when given."""

from __future__ import annotations

from dataclasses import dataclass

from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import Sitemap

#: the most a gzipped sitemap may unpack to (the sitemap protocol's limit is 50 MB)
MAX_UNPACKED = 64 * 1024 * 1024
GZIP_MAGIC = b"\x1f\x8b"


class NotASitemap(ValueError):
    """The body is not a sitemap; the message says what it is instead."""


@dataclass(frozen=True)
class SitemapEntry:
    """One ``<url>`` or ``<sitemap>`` of a sitemap."""

    loc: str
    lastmod: str | None


def read_sitemap(body: bytes) -> tuple[str, list[SitemapEntry]]:
    """``("urlset" | "sitemapindex", entries)``; :class:`NotASitemap` for anything else."""
    if body[:2] == GZIP_MAGIC:
        try:
            body = gunzip(body, max_size=MAX_UNPACKED)
        except (OSError, EOFError, ValueError) as exc:
            raise NotASitemap(f"a broken gzip file ({exc})") from exc
    if not body.strip():
        raise NotASitemap("an empty body")
    try:
        sitemap = Sitemap(body)
    except Exception as exc:  # lxml raises several types for what is not XML at all
        raise NotASitemap(f"not XML ({type(exc).__name__}: {exc})".replace(": )", ")")) from exc
    if sitemap.type not in ("urlset", "sitemapindex"):
        raise NotASitemap(f"XML whose root is <{sitemap.type}>, not <urlset> or <sitemapindex>")
    entries = [
        SitemapEntry(entry["loc"].strip(), (entry.get("lastmod") or "").strip() or None)
        for entry in sitemap
        if entry.get("loc")
    ]
    return sitemap.type, entries
