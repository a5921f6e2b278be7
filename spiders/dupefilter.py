"""scrapy-redis's duplicate filter with bounded memory: a Bloom filter in Redis per crawl.

scrapy-redis keeps every fingerprint in a Redis set, which grows without bound on crawls of
millions of URLs. This filter keeps a fixed-size bitmap instead (``DUPEFILTER_CAPACITY``
distinct requests at ``DUPEFILTER_ERROR_RATE`` false positives) and exports its size and fill
as crawl stats.

Requests are admitted in batches: the scheduler stages each request a response yields
(:meth:`BloomDupeFilter.stage`) and admits the batch in one round trip
(:meth:`BloomDupeFilter.flush`), the filter check and the queueing in one script. A duplicate
this worker already knows of (the filter answered for it before, or it is already in the
batch) is dropped at once, without a round trip: the filter would only say "seen" again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from scrapy import Request
from scrapy_redis.dupefilter import RFPDupeFilter

from sluice.crawl.bloom import Admission, BloomParams, KnownFingerprints, RedisBloom
from sluice.crawl.keys import CrawlKeys
from sluice.crawl.leases import host_of

log = logging.getLogger(__name__)

#: fingerprints a worker remembers the filter's answer for (about 100 bytes each)
KNOWN_LIMIT = 100_000


class BloomDupeFilter(RFPDupeFilter):
    """Fingerprints requests with Scrapy's fingerprinter and remembers them in a Bloom filter."""

    def __init__(
        self,
        server,
        keys: CrawlKeys,
        params: BloomParams,
        fingerprinter,
        stats=None,
        known_limit: int = KNOWN_LIMIT,
    ):
        super().__init__(server, key=keys.bloom, debug=False)
        self.keys = keys
        self.bloom = RedisBloom(server, keys.bloom, keys.seen, params)
        self.fingerprinter = fingerprinter
        self.stats = stats
        self.known = KnownFingerprints(known_limit)
        #: requests waiting for the next admission round trip, in the order they came
        self.staged: list[tuple[Request, Admission]] = []
        self._staged_fingerprints: set[str] = set()
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
        fingerprint = self.request_fingerprint(request)
        seen = self.bloom.add(fingerprint)
        self.known.add(fingerprint)
        self._count(not seen)
        return seen

    # -- batched admission ----------------------------------------------------------------------
    def stage(self, request: Request, encode: Callable[[Request], bytes], spider=None) -> bool:
        """Put the request in the next admission batch (``dont_filter`` ones unfiltered);
        False, and counted as filtered, when this worker knows it for a duplicate."""
        fingerprint = None
        if not request.dont_filter:
            fingerprint = self.request_fingerprint(request)
            if fingerprint in self.known or fingerprint in self._staged_fingerprints:
                self._count(False)
                self.log(request, spider)
                return False
        admission = Admission(encode(request), host_of(request.url), request.priority, fingerprint)
        if fingerprint is not None:
            self._staged_fingerprints.add(fingerprint)
        self.staged.append((request, admission))
        return True

    def flush(self, spider=None) -> list[Request]:
        """Admit the staged batch in one round trip; the requests it queued.

        A Redis error propagates and leaves the batch staged for the next try.
        """
        if not self.staged:
            return []
        batch = self.staged
        admitted, count = self.bloom.admit_many(self.keys, [entry for _, entry in batch])
        self.staged = []
        self._staged_fingerprints.clear()
        queued = []
        for (request, admission), ok in zip(batch, admitted, strict=True):
            if admission.fingerprint is None:
                queued.append(request)
                continue
            self.known.add(admission.fingerprint)
            self._count(ok)
            if ok:
                queued.append(request)
            else:
                self.log(request, spider)
        self._warn_when_full(count)
        return queued

    def _count(self, admitted: bool) -> None:
        if self.stats is not None:
            self.stats.inc_value("dupefilter/admitted" if admitted else "dupefilter/filtered")

    def _warn_when_full(self, count: int) -> None:
        if not self._warned_full and count > self.bloom.params.capacity:
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
        self.known.clear()
