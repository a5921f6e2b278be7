"""One politeness budget per site, shared by every worker of every crawl on every machine.

A site (``host[:port]``) gets one request per *interval*: its site profile's ``rate``, else its
robots.txt ``Crawl-delay``, else the default (``DEFAULT_HOST_RATE``, 4 requests/s). The budget
lives in Redis and is enforced twice:

- when a worker leases a request (:mod:`sluice.crawl.leases`): a crawl leases a site's
  requests no faster than its interval, and skips a site whose next request may not go out
  yet, so workers take from other sites instead of waiting behind it;
- when a request is about to be sent (``spiders.middlewares.politeness``): the worker reserves
  the site's next send time with :meth:`Politeness.reserve` and waits until then. This is the
  guarantee: reservations are spaced by the interval whichever worker makes them.

A 429 or 503 answer with ``Retry-After`` pushes the site's next send time past it, for every
worker at once (:meth:`Politeness.pause`).

A site without a ceiling (interval 0) has no send slots to space: a reservation there only
tells whether the site is paused. A worker may then skip asking for ``cache_ms`` after a
reservation that found it unpaused (:class:`OpenSites`); a pause set by another worker binds
it from then on at the latest. A site with an interval reserves every send.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import redis

#: HASH host -> interval (ms) between requests, as the workers last determined it
INTERVALS = "sluice:politeness:intervals"
#: prefix of STRING keys ``<prefix><host>``: the earliest time (ms) the host's next request may go
NEXT_PREFIX = "sluice:politeness:next:"
#: prefix of STRING keys ``<prefix><host>``: no request to the host before this time (ms)
PAUSE_PREFIX = "sluice:politeness:pause:"
#: how long an idle host's next-send time is kept (it only matters while requests flow)
NEXT_KEEP_MS = 3_600_000

# Reserve the host's next send slot: max(now, next); the slot after it is one interval later.
# An interval of -1 means "whatever a worker recorded for the host, else the default".
# A pause (Retry-After) pushes the slot past its end.
# KEYS: next, intervals, pause. ARGV: now_ms, interval_ms, default_ms, keep_ms, host. Returns
# the reserved time (ms) and the interval it used.
_RESERVE = """
local interval = tonumber(ARGV[2])
if interval < 0 then
  interval = tonumber(redis.call('HGET', KEYS[2], ARGV[5]) or ARGV[3])
end
local slot = math.max(tonumber(ARGV[1]), tonumber(redis.call('GET', KEYS[1]) or '0'),
                      tonumber(redis.call('GET', KEYS[3]) or '0'))
redis.call('SET', KEYS[1], slot + interval, 'PX', ARGV[4])
return {slot, interval}
"""

# No request before ARGV[1] (never shortens a pause); the next-send time moves with it, so
# leases skip the host too. KEYS: next, pause. ARGV: until_ms, keep_ms.
_PAUSE = """
local ends = math.max(tonumber(ARGV[1]), tonumber(redis.call('GET', KEYS[2]) or '0'))
redis.call('SET', KEYS[2], ends, 'PXAT', ends)
local nxt = math.max(ends, tonumber(redis.call('GET', KEYS[1]) or '0'))
redis.call('SET', KEYS[1], nxt, 'PX', tonumber(ARGV[2]))
return ends
"""


@dataclass(frozen=True)
class Reservation:
    """A send slot: no earlier than ``at`` (ms); the site's interval is ``interval_ms``."""

    at: int
    interval_ms: int


def host_key(netloc: str) -> str:
    """A site's name in the budget: its ``host[:port]``, lower case."""
    return netloc.lower()


class Politeness:
    """The shared budget of every site (see the module docstring)."""

    def __init__(self, server: redis.Redis) -> None:
        self.server = server
        self._reserve = server.register_script(_RESERVE)
        self._pause = server.register_script(_PAUSE)

    def set_interval(self, host: str, interval_ms: int) -> None:
        """Record the host's interval, so leases of every crawl pace themselves by it."""
        self.server.hset(INTERVALS, host, max(0, int(interval_ms)))

    def reserve(
        self, host: str, interval_ms: int | None, default_ms: int, now_ms: int
    ) -> Reservation:
        """Reserve the host's next send time; the caller sends no earlier than its ``at``.

        ``interval_ms`` None: the interval a worker recorded for the host, else ``default_ms``.
        """
        interval = -1 if interval_ms is None else max(0, int(interval_ms))
        at, used = self._reserve(
            keys=[NEXT_PREFIX + host, INTERVALS, PAUSE_PREFIX + host],
            args=[now_ms, interval, max(0, int(default_ms)), NEXT_KEEP_MS, host],
        )
        return Reservation(at=int(at), interval_ms=int(used))

    def pause(self, host: str, until_ms: int) -> int:
        """No request to the host before ``until_ms``, from any worker; the time it is paused to."""
        return int(
            self._pause(
                keys=[NEXT_PREFIX + host, PAUSE_PREFIX + host], args=[until_ms, NEXT_KEEP_MS]
            )
        )

    def paused_until(self, host: str) -> int:
        """The end (ms) of the host's pause, 0 when it is not paused."""
        return int(self.server.get(PAUSE_PREFIX + host) or 0)


class OpenSites:
    """Sites this worker found open a moment ago: no interval, no pause (see the module
    docstring). Only sites without a ceiling are kept, for ``cache_ms`` (0: never)."""

    def __init__(self, cache_ms: int) -> None:
        self.cache_ms = max(0, int(cache_ms))
        self._until: dict[str, int] = {}

    def note(self, host: str, reservation: Reservation, now_ms: int) -> None:
        """Remember a reservation: the site is open until ``now_ms + cache_ms`` when it has no
        interval and the slot is now (not paused); otherwise forget it."""
        if self.cache_ms and reservation.interval_ms == 0 and reservation.at <= now_ms:
            self._until[host] = now_ms + self.cache_ms
        else:
            self._until.pop(host, None)

    def is_open(self, host: str, now_ms: int) -> bool:
        """True when the site may be sent to without a reservation."""
        return self._until.get(host, 0) > now_ms

    def close(self, host: str) -> None:
        """The site was paused or its interval changed: reserve again from now on."""
        self._until.pop(host, None)


def interval_ms(rate: float) -> int:
    """Milliseconds between requests at ``rate`` requests/s (0 or less: no ceiling)."""
    return 0 if rate <= 0 else round(1000 / rate)


def retry_after_seconds(value: str | None, now: float) -> tuple[float | None, str | None]:
    """Seconds a ``Retry-After`` header asks to wait, and why it could not be used (if not).

    Both forms are read: a number of seconds, or an HTTP date. A date in the past, a negative
    number or anything else unreadable gives ``(None, problem)``: the caller waits its default.
    """
    if value is None or not value.strip():
        return None, None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(text).timestamp() - now
        except (TypeError, ValueError, IndexError):
            return None, f"Retry-After {text!r} is neither seconds nor an HTTP date"
    if not math.isfinite(seconds) or seconds <= 0:
        return None, f"Retry-After {text!r} is not in the future"
    return seconds, None


_CRAWL_DELAY = re.compile(r"^\s*crawl-delay\s*:\s*(?P<value>[^#\r\n]*)", re.I | re.M)


def robots_rules(text: str, user_agent: str) -> tuple[float | None, list[str], str | None]:
    """From a robots.txt body: its ``Crawl-delay`` for ``user_agent`` (None: none usable), the
    sitemaps it names, and what was wrong with it (None: nothing)."""
    from protego import Protego

    if text.lstrip().startswith("<"):
        return None, [], "robots.txt is an HTML page, not robots rules"
    rules = Protego.parse(text)
    delay = rules.crawl_delay(user_agent)
    problem = None
    if delay is None:
        written = [m.group("value").strip() for m in _CRAWL_DELAY.finditer(text)]
        if written:
            problem = f"Crawl-delay {written[0]!r} is not a number of seconds of at least 0"
    elif not math.isfinite(delay) or delay < 0:
        delay, problem = None, f"Crawl-delay {delay!r} is not a number of seconds of at least 0"
    return delay, list(rules.sitemaps), problem
