"""``ecommerce``: products from any site that publishes schema.org Product markup.

It follows every link inside the start sites (canonicalised, tracking parameters stripped,
robots.txt obeyed), ``rel=next`` pagination, and the sitemaps each start site's robots.txt
names (sitemap indexes and gzipped sitemaps included), and reads Products from JSON-LD (with
``@graph``), microdata and RDFa; a site profile may add CSS selectors where markup is missing,
and mark listings that need a browser to render.

    scrapy crawl ecommerce -a start_urls=http://127.0.0.1:8000/shop/
    sluice crawl ecommerce --start-url http://127.0.0.1:8000/shop/ --workers 2
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Response, TextResponse

from sluice.crawl.politeness import robots_rules
from sluice.schemas.envelope import PRODUCT_SCHEMA
from spiders.extract import extract_canonical, extract_products
from spiders.extract.sitemap import NotASitemap, read_sitemap
from spiders.items import CrawledItem
from spiders.spiders.base import SluiceSpider

log = logging.getLogger(__name__)

#: meta naming what a request fetches when its callback cannot be named (seeded requests)
PAGE_TYPE = "sluice_page_type"

#: links worth following: not assets, not mail or script links
SKIP_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".svg", ".css", ".js", ".pdf", ".zip")


class EcommerceSpider(SluiceSpider):
    """Products from schema.org markup on any shop; see the module docstring."""

    name = "ecommerce"

    @classmethod
    def seed_requests(cls, start_urls: list[str], params: dict[str, Any]) -> list[scrapy.Request]:
        """Each start page, and each start site's robots.txt (for the sitemaps it names)."""
        return [*super().seed_requests(start_urls, params), *robots_requests(start_urls)]

    async def start(self) -> AsyncIterator[scrapy.Request]:
        """Start pages given on the command line, and their sites' robots.txt."""
        async for request in super().start():
            yield request
        for request in robots_requests(self.start_urls):
            yield request

    def seed_request(self, url: str) -> scrapy.Request:
        """Start pages are parsed like any other page."""
        return scrapy.Request(url, callback=self.parse_page)

    def parse(self, response: Response) -> Iterator[object]:
        """Requests without a callback (seeded ones) by what they fetch: robots.txt, else a
        page."""
        if response.meta.get(PAGE_TYPE) == "robots":
            return self.parse_robots(response)
        return self.parse_page(response)

    def parse_robots(self, response: Response) -> Iterator[scrapy.Request]:
        """The sitemaps a start site's robots.txt names."""
        if not isinstance(response, TextResponse) or response.status != 200:
            return
        _, sitemaps, _ = robots_rules(response.text, self.settings.get("USER_AGENT") or "*")
        for url in sitemaps:
            yield scrapy.Request(response.urljoin(url), callback=self.parse_sitemap)

    def parse_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
        """The pages of a sitemap, or the sitemaps of a sitemap index."""
        try:
            kind, entries = read_sitemap(response.body)
        except NotASitemap as exc:
            self.crawler.stats.inc_value("sitemap/invalid")
            log.warning("%s is not a sitemap: %s; skipped", response.url, exc)
            return
        self.crawler.stats.inc_value(f"sitemap/{kind}")
        follow = self.parse_sitemap if kind == "sitemapindex" else self.parse_page
        for entry in entries:
            yield scrapy.Request(response.urljoin(entry.loc), callback=follow)

    def parse_page(self, response: Response) -> Iterator[object]:
        """Yield the page's products, then its links inside the crawl."""
        if not isinstance(response, TextResponse):
            return
        profile = self.sites.for_url(response.url)
        canonical = extract_canonical(response.text, response.url)
        products = extract_products(
            response.text,
            response.url,
            selectors=profile.selectors if profile else None,
            canonical_url=canonical,
        )
        source = self.sites.source_for(response.url)
        for product in products:
            yield CrawledItem(
                schema=PRODUCT_SCHEMA,
                source=source,
                url=product.get("url") or canonical or response.url,
                item=product,
            )
        links = response.css('a::attr(href), link[rel~="next"]::attr(href)').getall()
        for href in links:
            href = href.strip()
            if not href or href.startswith(("#", "mailto:", "javascript:", "tel:")):
                continue
            if href.lower().split("?")[0].endswith(SKIP_SUFFIXES):
                continue
            yield response.follow(href, callback=self.parse_page)


def robots_requests(start_urls: list[str]) -> list[scrapy.Request]:
    """One robots.txt request per start site."""
    origins = dict.fromkeys(
        f"{parts.scheme}://{parts.netloc}" for parts in map(urlsplit, start_urls) if parts.netloc
    )
    return [
        scrapy.Request(f"{origin}/robots.txt", callback=None, meta={PAGE_TYPE: "robots"})
        for origin in origins
    ]
