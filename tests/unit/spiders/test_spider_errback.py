"""The lease errback every Sluice request gets: release the lease, count the failure."""

from __future__ import annotations

import pytest
from scrapy import Request
from scrapy.exceptions import DownloadTimeoutError, IgnoreRequest
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.test import get_crawler
from twisted.internet.error import DNSLookupError
from twisted.python.failure import Failure

from spiders.leasing import ERRBACK_META, LEASE_META
from spiders.spiders.ecommerce import EcommerceSpider


class Book:
    def __init__(self) -> None:
        self.completed: list[str] = []
        self.failed: list[tuple[str, str]] = []

    def complete(self, request: Request) -> None:
        self.completed.append(request.meta.pop(LEASE_META))

    def fail(self, request: Request, reason: str) -> None:
        self.failed.append((request.url, reason))
        self.complete(request)


def spider_with_book() -> tuple[EcommerceSpider, Book]:
    crawler = get_crawler(EcommerceSpider)
    spider = EcommerceSpider.from_crawler(crawler, crawl_id="t", start_urls="http://x.test/")
    book = Book()
    spider.lease_book = book
    return spider, book


def failure_for(exc: Exception, request: Request) -> Failure:
    try:
        raise exc
    except Exception:
        failure = Failure()
    failure.request = request
    return failure


def test_a_download_error_releases_the_lease_and_counts_an_error():
    spider, book = spider_with_book()
    request = Request("http://x.test/a", meta={LEASE_META: "L1", ERRBACK_META: None})
    assert spider.errback_lease(failure_for(ConnectionRefusedError(), request)) is None
    assert book.completed == ["L1"]
    assert spider.crawler.stats.get_value("error/ConnectionRefusedError") == 1


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (ConnectionRefusedError(), "ConnectionRefusedError"),
        (TimeoutError(), "timeout"),
        (DNSLookupError(), "dns"),
        (DownloadTimeoutError(), "timeout"),
        ("status-503", "http_503"),
        ("status-429", "http_429"),
        ("status-404", None),  # gone: answered, and no retry would change it
        (IgnoreRequest("Forbidden by robots.txt"), None),  # refused on purpose
    ],
    ids=str,
)
def test_a_page_that_finally_failed_is_recorded_with_its_reason(error, reason):
    spider, book = spider_with_book()
    request = Request("http://x.test/p", meta={LEASE_META: "L9"})
    if isinstance(error, str):
        status = int(error.split("-")[1])
        error = HttpError(Response("http://x.test/p", status=status, request=request))
    spider.errback_lease(failure_for(error, request))
    assert book.failed == ([("http://x.test/p", reason)] if reason else [])


def test_a_robots_refusal_is_counted_as_filtered_not_as_an_error():
    spider, book = spider_with_book()
    request = Request("http://x.test/private/", meta={LEASE_META: "L2"})
    spider.errback_lease(failure_for(IgnoreRequest("Forbidden by robots.txt"), request))
    assert book.completed == ["L2"]
    assert spider.crawler.stats.get_value("filtered/ignored") == 1
    assert not [k for k in spider.crawler.stats.get_stats() if k.startswith("error/")]


def test_an_http_error_is_an_error_even_though_it_is_an_ignore_request():
    spider, _ = spider_with_book()
    request = Request("http://x.test/gone", meta={LEASE_META: "L3"})
    response = Response("http://x.test/gone", status=404, request=request)
    spider.errback_lease(failure_for(HttpError(response), request))
    assert spider.crawler.stats.get_value("error/HttpError") == 1


def test_the_requests_own_errback_is_called_by_name():
    spider, book = spider_with_book()
    seen = []
    spider.on_failure = lambda failure: seen.append(failure.request.url) or "handled"
    request = Request("http://x.test/b", meta={LEASE_META: "L4", ERRBACK_META: "on_failure"})
    assert spider.errback_lease(failure_for(TimeoutError(), request)) == "handled"
    assert seen == ["http://x.test/b"] and book.completed == ["L4"]
