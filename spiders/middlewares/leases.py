"""Marks a leased request done once the spider has handled its response completely.

Requests the callback yields are queued before the lease is released (the scheduler queues
them synchronously as they come out), so the shared queue never looks empty while work that
will produce more requests is still under way.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any

from scrapy import Request
from scrapy.http import Response

from spiders.leasing import ERRBACK_META, LEASE_META, book_of


class LeaseMiddleware:
    """Completes the response's lease after its output, or on an exception from the callback."""

    def __init__(self, crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        """Scrapy's constructor hook."""
        return cls(crawler)

    def _book(self):
        return book_of(self.crawler.spider)

    @staticmethod
    def _detach(request: Request, response: Response) -> Request:
        # A follow-up that copied the response's meta must not carry the parent's lease.
        if LEASE_META in request.meta or ERRBACK_META in request.meta:
            meta = {k: v for k, v in request.meta.items() if k not in (LEASE_META, ERRBACK_META)}
            return request.replace(meta=meta)
        return request

    def process_spider_output(self, response: Response, result: Iterable[Any]) -> Iterable[Any]:
        """Pass the output through, then complete the lease."""
        for output in result:
            yield self._detach(output, response) if isinstance(output, Request) else output
        self._complete(response)

    async def process_spider_output_async(
        self, response: Response, result: AsyncIterator[Any]
    ) -> AsyncIterator[Any]:
        """Asynchronous twin of :meth:`process_spider_output`."""
        async for output in result:
            yield self._detach(output, response) if isinstance(output, Request) else output
        self._complete(response)

    def process_spider_exception(self, response: Response, exception: Exception) -> None:
        """The callback (or HttpError filtering) failed: the request is done all the same."""
        self._complete(response)

    def _complete(self, response: Response) -> None:
        book = self._book()
        if book is not None and response.request is not None:
            book.complete(response.request)
