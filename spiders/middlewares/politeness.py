"""Every request waits for its site's turn in the politeness budget every worker shares.

The budget itself (:mod:`sluice.crawl.politeness`) lives in Redis: before a request goes out,
this middleware reserves the site's next send time and waits until then, so a crawl never
sends a site more than its rate, however many workers and pool replicas run. The rate is the
site profile's ``rate``, else the site's robots.txt ``Crawl-delay`` (read here when Scrapy
fetches robots.txt), else ``DEFAULT_HOST_RATE`` (4 requests/s). AutoThrottle still adapts to
latency below that ceiling.

A site whose interval is 0 (a profile's ``rate`` of 0, or ``Crawl-delay: 0``) has no send
slots to space; after a reservation that found it unpaused, this worker sends to it without
asking again for ``SLUICE_POLITENESS_CACHE`` seconds (default 0.1; 0: always ask), so a pause
another worker sets binds this one within that time.

A 429, or a 503 with ``Retry-After``, pauses the site for every worker until the time it
names (``THROTTLE_DEFAULT_WAIT`` when it names none) and sends the request back to the
crawl's queue. Such answers are waited out beyond the ordinary retry budget, for at most
``THROTTLE_MAX_WAIT`` seconds per request; after that the answer goes on to the retry
middleware like any other.
"""

from __future__ import annotations

import logging
import time
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from twisted.internet import reactor
from twisted.internet.defer import inlineCallbacks
from twisted.internet.task import deferLater

from sluice.crawl.leases import host_of, now_ms
from sluice.crawl.politeness import (
    OpenSites,
    Politeness,
    interval_ms,
    retry_after_seconds,
    robots_rules,
)
from sluice.storage.redis import client

log = logging.getLogger(__name__)

#: meta: when (epoch s) the request was first answered with a throttling status (a failed page
#: kept for `sluice crawl retry` drops it: spiders.leasing.ATTEMPT_META)
THROTTLED_SINCE = "sluice_throttled_since"
THROTTLE_STATUSES = (429, 503)


class PolitenessMiddleware:
    """Waits for the site's turn before each request; pauses the site on 429/503."""

    def __init__(self, crawler, politeness: Politeness, default_rate: float) -> None:
        self.crawler = crawler
        self.politeness = politeness
        self.default_ms = interval_ms(default_rate)
        settings = crawler.settings
        self.max_wait = settings.getfloat("THROTTLE_MAX_WAIT", 600.0)
        self.default_wait = settings.getfloat("THROTTLE_DEFAULT_WAIT", 5.0)
        self.user_agent = settings.get("USER_AGENT") or "*"
        self.open_sites = OpenSites(round(settings.getfloat("SLUICE_POLITENESS_CACHE", 0.1) * 1000))
        #: host -> interval (ms) learnt from its robots.txt in this worker
        self.robots_ms: dict[str, int] = {}
        #: host -> the interval this worker last recorded in Redis (recorded again on a change)
        self.recorded: dict[str, int] = {}
        self.warned: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler):
        """Needs the crawl's Redis (``REDIS_URL``); ``DEFAULT_HOST_RATE`` is requests/s."""
        url = crawler.settings.get("REDIS_URL")
        if not url:
            raise NotConfigured("REDIS_URL is not set: the politeness budget lives in Redis")
        server = client(url, decode=False, retries=crawler.settings.getint("SLUICE_REDIS_RETRIES"))
        return cls(crawler, Politeness(server), crawler.settings.getfloat("DEFAULT_HOST_RATE", 4.0))

    # -- the rate ----------------------------------------------------------------------------
    def interval_for(self, request: Request) -> int | None:
        """The request's site interval (ms): its profile's rate, else its robots.txt delay;
        None: whatever any worker recorded for the site, else the default."""
        host = host_of(request.url)
        sites = getattr(self.crawler.spider, "sites", None)
        profile = sites.for_url(request.url) if sites is not None else None
        if profile is not None and profile.rate is not None:
            chosen = interval_ms(profile.rate)
        elif host in self.robots_ms:
            chosen = self.robots_ms[host]
        else:
            return None
        if self.recorded.get(host) != chosen:
            self.politeness.set_interval(host, chosen)
            self.recorded[host] = chosen
            self.open_sites.close(host)
        return chosen

    def _warn_once(self, key: str, message: str, *args: object) -> None:
        if key not in self.warned:
            self.warned.add(key)
            log.warning(message, *args)

    # -- Scrapy's hooks ------------------------------------------------------------------------
    @inlineCallbacks
    def process_request(self, request: Request):
        """Reserve the site's next send time and wait for it; again if the site was paused
        (a 429 seen by any worker) while this request waited. (Twisted's Deferreds, not an
        ``async def``: Scrapy cancels waits in flight when a spider closes, and that is clean
        only for Deferreds.)"""
        host = host_of(request.url)
        interval = self.interval_for(request)
        # Only a site whose interval is 0 is ever open; one this worker spaces is never.
        if not interval and self.open_sites.is_open(host, now_ms()):
            return None
        while True:
            now = now_ms()
            reservation = self.politeness.reserve(host, interval, self.default_ms, now)
            self.open_sites.note(host, reservation, now)
            wait = (reservation.at - now_ms()) / 1000
            if wait <= 0:
                return None  # the reservation already counted any pause
            self.crawler.stats.inc_value("politeness/waits")
            yield deferLater(reactor, wait, lambda: None)
            if self.politeness.paused_until(host) <= now_ms():
                return None

    def process_response(self, request: Request, response: Response) -> Request | Response:
        """Learn robots.txt's Crawl-delay; pause the site and requeue on a throttling answer."""
        if urlsplit(request.url).path == "/robots.txt" and response.status == 200:
            self._learn_robots(host_of(request.url), response)
            return response
        if response.status not in THROTTLE_STATUSES:
            return response
        header = response.headers.get(b"Retry-After")
        text = header.decode("latin-1") if header else None
        if response.status == 503 and text is None:
            return response  # an ordinary server error: the retry middleware's to handle
        return self._throttled(request, response, text)

    # -- helpers ---------------------------------------------------------------------------------
    def _learn_robots(self, host: str, response: Response) -> None:
        text = (
            response.text if hasattr(response, "text") else response.body.decode("utf-8", "replace")
        )
        delay, _sitemaps, problem = robots_rules(text, self.user_agent)
        if problem:
            self._warn_once(f"robots:{host}", "%s: %s; using the default rate", host, problem)
        if delay is not None:
            self.robots_ms[host] = round(delay * 1000)

    def _throttled(self, request: Request, response: Response, header: str | None):
        host = host_of(request.url)
        now = time.time()
        seconds, problem = retry_after_seconds(header, now)
        if problem:
            self._warn_once(f"retry-after:{host}", "%s: %s; waiting %.0fs", host, problem,
                            self.default_wait)  # fmt: skip
        pause = seconds if seconds is not None else self.default_wait
        self.open_sites.close(host)
        self.politeness.pause(host, now_ms() + round(pause * 1000))
        self.crawler.stats.inc_value(f"politeness/throttled/{response.status}")
        since = request.meta.get(THROTTLED_SINCE, now)
        if now - since > self.max_wait:
            log.warning(
                "%s still answers %s after %.0fs of waiting (THROTTLE_MAX_WAIT): giving up on %s",
                host, response.status, now - since, request.url,
            )  # fmt: skip
            return response
        log.info("%s answered %s: pausing it %.1fs for every worker", host, response.status, pause)
        return request.replace(dont_filter=True, meta={**request.meta, THROTTLED_SINCE: since})
