"""Which followed links become requests: canonical URLs, inside the start site, not denied.

Runs on the spider's output (a spider middleware), before anything reaches the shared queue:
- URLs are canonicalised (tracking parameters stripped, query sorted, fragment dropped), so
  the same product behind ``?utm_source=...`` is one request;
- requests outside the crawl's start sites are dropped (``filtered/offsite``);
- requests matching ``DENY_PATTERNS`` (regexes) are dropped (``filtered/denied``).
Requests with ``dont_filter`` pass as they are.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from scrapy import Request

from spiders.urls import canonicalize, same_site


class RequestFilterMiddleware:
    """Canonicalises, keeps requests on the start sites, applies deny patterns."""

    def __init__(self, crawler, deny: list[str]) -> None:
        self.crawler = crawler
        self.deny = [re.compile(pattern) for pattern in deny]

    @classmethod
    def from_crawler(cls, crawler):
        """Deny patterns come from ``DENY_PATTERNS``."""
        return cls(crawler, crawler.settings.getlist("DENY_PATTERNS"))

    def _allowed_sites(self) -> list[str]:
        spider = self.crawler.spider
        return list(getattr(spider, "allowed_sites", None) or [])

    def filter(self, request: Request) -> Request | None:
        """The canonical request, or None when it must not be crawled."""
        if request.dont_filter:
            return request
        stats = self.crawler.stats
        url = canonicalize(request.url)
        sites = self._allowed_sites()
        if sites and not any(same_site(url, site) for site in sites):
            stats.inc_value("filtered/offsite")
            return None
        if any(pattern.search(url) for pattern in self.deny):
            stats.inc_value("filtered/denied")
            return None
        if url != request.url:
            stats.inc_value("filtered/canonicalized")
            return request.replace(url=url)
        return request

    def process_spider_output(self, response, result: Iterable[Any]) -> Iterable[Any]:
        """Filter the requests among the callback's output."""
        for output in result:
            if isinstance(output, Request):
                output = self.filter(output)
                if output is None:
                    continue
            yield output

    async def process_spider_output_async(self, response, result):
        """Asynchronous twin of :meth:`process_spider_output`."""
        async for output in result:
            if isinstance(output, Request):
                output = self.filter(output)
                if output is None:
                    continue
            yield output
