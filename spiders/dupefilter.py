"""scrapy-redis's duplicate filter with bounded memory: a Bloom filter in Redis per crawl.

scrapy-redis keeps every fingerprint in a Redis set, which grows without bound on crawls of
millions of URLs. This filter keeps a fixed-size bitmap instead (``DUPEFILTER_CAPACITY``
distinct requests at ``DUPEFILTER_ERROR_RATE`` false positives) and exports its size and fill
as crawl stats.
"""

from __future__ import annotations

import logging

from scrapy import Request
from scrapy_redis.dupefilter import RFPDupeFilter

from sluice.crawl.bloom import BloomParams, RedisBloom
from sluice.crawl.keys import CrawlKeys
from sluice.crawl.leases import host_of

log = logging.getLogger(__name__)


class BloomDupeFilter(RFPDupeFilter):
    """Fingerprints requests with Scrapy's fingerprinter and remembers them in a Bloom filter."""

    def __init__(self, server, keys: CrawlKeys, params: BloomParams, fingerprinter, stats=None):
        super().__init__(server, key=keys.bloom, debug=False)
        self.bloom = RedisBloom(server, keys.bloom, keys.seen, params)
        self.fingerprinter = fingerprinter
        self.stats = stats
        self._warned_full = False
        if stats is not None:
            stats.set_value("dupefilter/bloom_capacity", params.capacity)
            stats.set_value("dupefilter/bloom_error_rate", params.error_rate)
            stats.set_value("dupefilter/bloom_bits", params.bits)
            stats.set_value("dupefilter/bloom_hashes", params.hashes)
            stats.set_value("dupefilter/bloom_max_bytes", params.bytes)

    def request_fingerprint(self, request: Request) -> str:
        """Scrapy's fingerprint of the request (method, canonical URL, body)."""
        return self.fingerprinter.fingerprint(request).hex()

    def request_seen(self, request: Request) -> bool:
        """True when an equal request was scheduled before in this crawl."""
        seen = self.bloom.add(self.request_fingerprint(request))
        if self.stats is not None:
            self.stats.inc_value("dupefilter/filtered" if seen else "dupefilter/admitted")
        if not seen:
            self._warn_when_full()
        return seen

    def admit(self, request: Request, keys: CrawlKeys, data: bytes) -> bool:
        """Queue the encoded request unless an equal one was seen; True when queued."""
        queued = self.bloom.admit(
            self.request_fingerprint(request), keys, data, host_of(request.url), request.priority
        )
        if self.stats is not None:
            self.stats.inc_value("dupefilter/admitted" if queued else "dupefilter/filtered")
        if queued:
            self._warn_when_full()
        return queued

    def _warn_when_full(self) -> None:
        if not self._warned_full and self.bloom.count() > self.bloom.params.capacity:
            # Past capacity the false-positive rate climbs above the configured one.
            self._warned_full = True
            log.warning(
                "duplicate filter holds more than its capacity of %d requests; raise "
                "DUPEFILTER_CAPACITY for crawls this large",
                self.bloom.params.capacity,
            )

    def record_size(self) -> None:
        """Export how many requests the filter holds and the memory it uses."""
        if self.stats is not None:
            self.stats.set_value("dupefilter/bloom_items", self.bloom.count())
            self.stats.set_value("dupefilter/bloom_bytes", self.bloom.memory_bytes())

    def close(self, reason: str = "") -> None:
        """Keep the filter: a crawl's other workers still use it."""

    def clear(self) -> None:
        """Forget every fingerprint of the crawl."""
        self.bloom.clear()
