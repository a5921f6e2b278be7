"""The base of every Sluice spider: crawl id, start URLs, and lease-aware failure handling."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import scrapy
from scrapy.exceptions import CannotResolveHostError, DownloadTimeoutError, IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet import error as net
from twisted.python.failure import Failure

from sluice.crawl import registry
from sluice.crawl.keys import CrawlKeys
from sluice.storage.redis import client
from spiders.leasing import ERRBACK_META, book_of
from spiders.sites import BUNDLED, SiteRegistry

log = logging.getLogger(__name__)


def split_urls(value: str | list[str] | None) -> list[str]:
    """Start URLs given as a list or as one comma/space-separated string (``-a start_urls=``)."""
    if value is None:
        return []
    if isinstance(value, str):
        value = value.replace(",", " ").split()
    return [url for url in value if url]


def failure_reason(failure: Failure, retried_statuses: list[int]) -> str | None:
    """Why a page finally failed (``http_503``, ``timeout``, ``dns``, an exception's name), or
    None when it did not fail to be fetched: refused on purpose (robots.txt, a filter), or
    answered with a status no retry could change (404, 410, 403...)."""
    if failure.check(HttpError):
        status = failure.value.response.status
        return f"http_{status}" if int(status) in {int(s) for s in retried_statuses} else None
    if failure.check(IgnoreRequest):
        return None
    if failure.check(TimeoutError, net.TimeoutError, net.TCPTimedOutError, DownloadTimeoutError):
        return "timeout"
    if failure.check(net.DNSLookupError, CannotResolveHostError):
        return "dns"
    return failure.type.__name__


class SluiceSpider(scrapy.Spider):
    """Runs inside a crawl (``crawl_id``) whose requests live in the shared Redis queue.

    ``scrapy crawl NAME -a start_urls=URL[,URL]`` works without a crawl id: one is made up and
    the start URLs are queued by this worker. ``sluice crawl`` seeds the queue itself and starts
    workers with ``-a crawl_id=...`` only.
    """

    def __init__(
        self,
        crawl_id: str | None = None,
        start_urls: str | list[str] | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.crawl_id = crawl_id or f"{self.name}-{uuid.uuid4().hex[:12]}"
        self.start_urls = split_urls(start_urls)
        self.allowed_sites: list[str] = list(self.start_urls)
        self.sites = SiteRegistry(list(BUNDLED))

    @classmethod
    def from_crawler(cls, crawler, *args: Any, **kwargs: Any):
        """Also load site profiles, and for a seeded crawl its start sites from Redis."""
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.sites = SiteRegistry.from_settings(crawler.settings)
        url = crawler.settings.get("REDIS_URL")
        if not spider.allowed_sites and url:
            server = client(url, decode=False, retries=3)
            spider.allowed_sites = registry.start_urls(server, CrawlKeys(spider.crawl_id))
        return spider

    async def start(self) -> AsyncIterator[scrapy.Request]:
        """Start URLs given on the command line; a seeded crawl has none."""
        for url in self.start_urls:
            yield self.seed_request(url)

    @classmethod
    def seed_requests(cls, start_urls: list[str], params: dict[str, Any]) -> list[scrapy.Request]:
        """The requests `sluice crawl` queues for a new crawl (``params``: e.g. a date)."""
        return [scrapy.Request(url, callback=None) for url in start_urls]

    def seed_request(self, url: str) -> scrapy.Request:
        """The first request for one start URL (spiders override to pick a callback)."""
        return scrapy.Request(url, callback=self.parse)

    def errback_lease(self, failure: Failure) -> Any:
        """Every leased request's errback: record a page that finally failed (the crawl is then
        partial), release the lease, delegate to the request's own errback."""
        request = failure.request
        own = request.meta.get(ERRBACK_META)
        book = book_of(self)
        if book is not None:
            reason = failure_reason(failure, self.settings.getlist("RETRY_HTTP_CODES"))
            if reason is None:
                book.complete(request)
            else:
                self.crawler.stats.inc_value(f"failed_pages/{reason}")
                book.fail(request, reason)
        if own:
            return getattr(self, own)(failure)
        if failure.check(IgnoreRequest) and not failure.check(HttpError):
            # Refused on purpose (robots.txt, a middleware's rule): a decision, not an error.
            self.crawler.stats.inc_value("filtered/ignored")
            log.info("%s not fetched: %s", request.url, failure.getErrorMessage())
            return None
        self.crawler.stats.inc_value(f"error/{failure.type.__name__}")
        log.warning("%s failed: %s", request.url, failure.getErrorMessage())
        return None
