"""``ecommerce``: products from any site that publishes schema.org Product markup.

It follows every link inside the start sites (canonicalised, tracking parameters stripped,
robots.txt obeyed) and reads Products from JSON-LD (with ``@graph``), microdata and RDFa;
a site profile may add CSS selectors where markup is missing, and mark listings that need a
browser to render.

    scrapy crawl ecommerce -a start_urls=http://127.0.0.1:8000/shop/
    sluice crawl ecommerce --start-url http://127.0.0.1:8000/shop/ --workers 2
"""

from __future__ import annotations

from collections.abc import Iterator

import scrapy
from scrapy.http import Response, TextResponse

from sluice.schemas.envelope import PRODUCT_SCHEMA
from spiders.extract import extract_canonical, extract_products
from spiders.items import CrawledItem
from spiders.spiders.base import SluiceSpider

#: links worth following: not assets, not mail or script links
SKIP_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".svg", ".css", ".js", ".pdf", ".zip")


class EcommerceSpider(SluiceSpider):
    """Products from schema.org markup on any shop; see the module docstring."""

    name = "ecommerce"

    def seed_request(self, url: str) -> scrapy.Request:
        """Start pages are parsed like any other page."""
        return scrapy.Request(url, callback=self.parse_page)

    def parse(self, response: Response) -> Iterator[object]:
        """Requests without a callback (seeded start URLs) are pages too."""
        return self.parse_page(response)

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
        for href in response.css("a::attr(href)").getall():
            href = href.strip()
            if not href or href.startswith(("#", "mailto:", "javascript:", "tel:")):
                continue
            if href.lower().split("?")[0].endswith(SKIP_SUFFIXES):
                continue
            yield response.follow(href, callback=self.parse_page)
