"""User-agent and proxy rotation.

``USER_AGENTS`` (a list) are used round-robin, one per request; a request with meta
``keep_user_agent`` keeps the one it set. ``PROXIES`` (a list of
``http://[user:pass@]host:port``; ``SLUICE_PROXIES`` in the environment, comma-separated) are
rotated per request; a proxy that fails is rested for ``PROXY_BACKOFF`` seconds.
"""

from __future__ import annotations

import itertools
import logging
import time

from scrapy import Request
from scrapy.exceptions import NotConfigured

log = logging.getLogger(__name__)


class UserAgentRotationMiddleware:
    """Round-robin User-Agent headers."""

    def __init__(self, agents: list[str]) -> None:
        self._agents = itertools.cycle(agents)

    @classmethod
    def from_crawler(cls, crawler):
        """Disabled without ``USER_AGENTS``."""
        agents = crawler.settings.getlist("USER_AGENTS")
        if not agents:
            raise NotConfigured("USER_AGENTS is empty")
        return cls(agents)

    def process_request(self, request: Request) -> None:
        """Give the request the next agent, unless it asks to keep its own."""
        if not request.meta.get("keep_user_agent"):
            request.headers[b"User-Agent"] = next(self._agents)


class ProxyRotationMiddleware:
    """Round-robin proxies with a rest period for those that fail."""

    def __init__(self, crawler, proxies: list[str], backoff: float) -> None:
        self.crawler = crawler
        self.proxies = proxies
        self.backoff = backoff
        self.rested_until: dict[str, float] = {}
        self._cycle = itertools.cycle(proxies)

    @classmethod
    def from_crawler(cls, crawler):
        """Disabled without ``PROXIES``."""
        proxies = crawler.settings.getlist("PROXIES")
        if not proxies:
            raise NotConfigured("PROXIES is empty")
        return cls(crawler, proxies, crawler.settings.getfloat("PROXY_BACKOFF", 60.0))

    def choose(self) -> str:
        """The next proxy that is not resting (the least rested one if all are)."""
        now = time.monotonic()
        for _ in range(len(self.proxies)):
            proxy = next(self._cycle)
            if self.rested_until.get(proxy, 0) <= now:
                return proxy
        return min(self.proxies, key=lambda p: self.rested_until.get(p, 0))

    def process_request(self, request: Request) -> None:
        """Route through a proxy unless the request chose one (or none: ``proxy: None``)."""
        if "proxy" in request.meta:
            return
        proxy = self.choose()
        request.meta["proxy"] = proxy
        request.meta["rotated_proxy"] = proxy
        self.crawler.stats.inc_value("proxy/assigned")

    def process_exception(self, request: Request, exception: Exception) -> None:
        """Rest a proxy whose connection failed; the retry middleware retries elsewhere."""
        proxy = request.meta.pop("rotated_proxy", None)
        if proxy:
            self.rested_until[proxy] = time.monotonic() + self.backoff
            request.meta.pop("proxy", None)
            self.crawler.stats.inc_value("proxy/failed")
            log.info("proxy %s failed (%s); resting it %.0fs", proxy, exception, self.backoff)
