"""A per-domain request rate ceiling, on top of AutoThrottle.

AutoThrottle adapts delays to latency; this middleware guarantees a hard ceiling per domain
(``DOMAIN_RATE_LIMITS = {"example.com": 2.0}`` requests per second, ``DEFAULT_DOMAIN_RATE``
for the rest, 0 for none). It sets the downloader slot's delay, so requests wait in Scrapy's
own slot queue instead of blocking the reactor.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from scrapy import Request
from scrapy.exceptions import NotConfigured


class DomainRateLimitMiddleware:
    """Keeps each domain's downloader slot at or under its configured request rate."""

    def __init__(self, crawler, limits: dict[str, float], default: float) -> None:
        self.crawler = crawler
        self.limits = {domain.lower(): rate for domain, rate in limits.items()}
        self.default = default

    @classmethod
    def from_crawler(cls, crawler):
        """Disabled when no limit is configured."""
        limits = crawler.settings.getdict("DOMAIN_RATE_LIMITS")
        default = crawler.settings.getfloat("DEFAULT_DOMAIN_RATE", 0.0)
        if not limits and default <= 0:
            raise NotConfigured("no DOMAIN_RATE_LIMITS or DEFAULT_DOMAIN_RATE")
        return cls(crawler, {k: float(v) for k, v in limits.items()}, default)

    def rate_for(self, host: str) -> float:
        """The configured rate for ``host`` (a parent domain's limit applies to subdomains)."""
        host = host.lower()
        parts = host.split(".")
        for i in range(len(parts)):
            rate = self.limits.get(".".join(parts[i:]))
            if rate is not None:
                return rate
        return self.default

    def process_request(self, request: Request) -> None:
        """Raise the request's slot delay to the domain's minimum interval."""
        rate = self.rate_for(urlsplit(request.url).hostname or "")
        if rate <= 0:
            return
        downloader = self.crawler.engine.downloader
        key = downloader.get_slot_key(request)
        slot = downloader.slots.get(key)
        if slot is not None:
            slot.delay = max(slot.delay, 1.0 / rate)
            slot.randomize_delay = False
