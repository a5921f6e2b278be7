"""robots.txt obeyed by every request, including those that arrive while it is being fetched.

Sluice uses this in place of Scrapy's ``RobotsTxtMiddleware``. In Scrapy 2.19 the requests
that arrive while a site's robots.txt is loading all await one shared Deferred, and under the
asyncio reactor only the first of them receives the parser: the Deferred's result is None for
the rest, which the middleware reads as "no robots.txt" and sends unchecked. A worker joining
a crawl under way fills its engine's slots before its robots.txt arrives, so most of its first
burst went out unchecked, and a Disallowed page among them was fetched.

Here a site's robots.txt is one asyncio future that every request for the site awaits; an
awaited future keeps its result, so each waiter is checked against the same rules. The stats
and the ``robots_parsed`` signal are Scrapy's, so dashboards and extensions read the same.
A robots.txt that cannot be fetched allows everything, as in Scrapy; the error is counted.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from scrapy import Request, signals
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http.request import NO_CALLBACK
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import build_from_crawler, load_object

log = logging.getLogger(__name__)

#: robots.txt goes ahead of the pages that wait for it
ROBOTS_PRIORITY = 1000


class RobotsTxtMiddleware:
    """Refuses (``IgnoreRequest``) a request its site's robots.txt disallows."""

    def __init__(self, crawler) -> None:
        settings = crawler.settings
        if not settings.getbool("ROBOTSTXT_OBEY"):
            raise NotConfigured("ROBOTSTXT_OBEY is off")
        self.crawler = crawler
        self.user_agent = settings.get("ROBOTSTXT_USER_AGENT") or None
        self.default_user_agent = settings.get("USER_AGENT")
        self.parser_class = load_object(settings.get("ROBOTSTXT_PARSER"))
        #: site (netloc) -> the task fetching its rules; its result (None: none usable) stays
        self.rules: dict[str, asyncio.Future] = {}

    @classmethod
    def from_crawler(cls, crawler):
        """Scrapy's constructor hook."""
        return cls(crawler)

    async def process_request(self, request: Request, spider=None) -> None:
        """Wait for the site's rules, then refuse the request if they disallow it."""
        if request.meta.get("dont_obey_robotstxt") or request.url.startswith(("data:", "file:")):
            return
        rules = await self.rules_for(request)
        if rules is None:
            return
        agent = self.user_agent or request.headers.get(b"User-Agent", self.default_user_agent)
        if not rules.allowed(request.url, agent):
            log.debug("Forbidden by robots.txt: %s", request)
            self.crawler.stats.inc_value("robotstxt/forbidden")
            raise IgnoreRequest("Forbidden by robots.txt")

    async def rules_for(self, request: Request) -> Any:
        """The rules of the request's site (None: no usable robots.txt), fetched once."""
        url = urlparse_cached(request)
        loading = self.rules.get(url.netloc)
        if loading is None:
            # A task of its own, so the first request being cancelled does not strand the rest.
            loading = self.rules[url.netloc] = asyncio.ensure_future(
                self._fetch(f"{url.scheme}://{url.netloc}/robots.txt", request)
            )
        # shield: a waiter cancelled (the spider closing) must not cancel the site's rules
        return await asyncio.shield(loading)

    async def _fetch(self, robots_url: str, first: Request) -> Any:
        stats = self.crawler.stats
        robots = Request(
            robots_url,
            priority=ROBOTS_PRIORITY,
            meta={"dont_obey_robotstxt": True},
            callback=NO_CALLBACK,
        )
        try:
            response = await self.crawler.engine.download_async(robots)
        except IgnoreRequest:
            return None
        except Exception as exc:
            # Allowed, as Scrapy does; logged here, once, and counted.
            log.error("robots.txt %s could not be fetched: %r", robots_url, exc)
            stats.inc_value(f"robotstxt/exception_count/{type(exc)}")
            return None
        finally:
            stats.inc_value("robotstxt/request_count")
        stats.inc_value("robotstxt/response_count")
        stats.inc_value(f"robotstxt/response_status_count/{response.status}")
        rules = build_from_crawler(self.parser_class, self.crawler, response.body)
        await self.crawler.signals.send_catch_log_async(
            signal=signals.robots_parsed, robotparser=rules, request=first
        )
        return rules
