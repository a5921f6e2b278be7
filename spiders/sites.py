"""Per-site knowledge the generic spiders use when a site needs more than schema.org markup.

A profile applies to every URL its ``match`` regex finds. It can name the ``source`` items are
filed under (default: the URL's host), add CSS ``selectors`` for fields the markup lacks, list
URL patterns whose pages need a browser to render (``render_js``), deny URL patterns, and set
the request ``rate`` the whole crawl keeps to on the site's host.
Profiles come from ``SITE_PROFILES`` in the Scrapy settings (a list of dicts), after the
bundled demo sites.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class SiteProfile:
    """What Sluice knows about one site."""

    name: str
    match: str
    source: str | None = None
    selectors: dict[str, str] = field(default_factory=dict)
    render_js: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()
    #: requests/s the whole crawl may send the site's host (0: no ceiling); None: the site's
    #: robots.txt Crawl-delay, else DEFAULT_HOST_RATE
    rate: float | None = None

    def applies_to(self, url: str) -> bool:
        """True when the profile covers ``url``."""
        return re.search(self.match, url) is not None

    def needs_browser(self, url: str) -> bool:
        """True when ``url`` must be rendered by a browser to show its links."""
        return any(re.search(pattern, url) for pattern in self.render_js)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SiteProfile:
        """Build from settings; unknown keys are an error naming them."""
        unknown = set(data) - {f for f in cls.__dataclass_fields__}
        if unknown:
            raise ValueError(
                f"site profile {data.get('name')!r} has unknown keys {sorted(unknown)}"
            )
        return cls(
            name=data["name"],
            match=data["match"],
            source=data.get("source"),
            selectors=dict(data.get("selectors") or {}),
            render_js=tuple(data.get("render_js") or ()),
            deny=tuple(data.get("deny") or ()),
            rate=None if data.get("rate") is None else float(data["rate"]),
        )


#: The bundled demo sites (served by `sluice demo-site`, any host and port).
DEMO_SHOP = SiteProfile(
    name="demo-shop",
    match=r"^https?://[^/]+/shop/",
    source="shop.localhost",
    render_js=(r"/shop/c/gadgets(\?|$)",),
    # Our own bundled site, crawled on the same machine: no ceiling, so crawls of it (and
    # benchmarks against plain Scrapy) run at the machine's speed.
    rate=0.0,
)
DEMO_MARKET = SiteProfile(
    name="demo-market", match=r"^https?://[^/]+/market/", source="market.localhost", rate=0.0
)
BUNDLED = (DEMO_SHOP, DEMO_MARKET)


class SiteRegistry:
    """Finds the profile for a URL; the first profile that matches wins."""

    def __init__(self, profiles: list[SiteProfile]) -> None:
        self.profiles = profiles

    @classmethod
    def from_settings(cls, settings) -> SiteRegistry:
        """Profiles from ``SITE_PROFILES`` first, then the bundled ones."""
        extra = [SiteProfile.from_dict(d) for d in settings.getlist("SITE_PROFILES")]
        return cls([*extra, *BUNDLED])

    def for_url(self, url: str) -> SiteProfile | None:
        """The profile covering ``url``, if any."""
        return next((p for p in self.profiles if p.applies_to(url)), None)

    def source_for(self, url: str) -> str:
        """The source name items from ``url`` are filed under."""
        profile = self.for_url(url)
        if profile and profile.source:
            return profile.source
        return (urlsplit(url).hostname or "unknown").lower()
