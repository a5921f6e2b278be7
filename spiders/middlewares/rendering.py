"""Sends the requests whose pages need JavaScript through a real browser (scrapy-playwright).

A request is rendered when its site profile lists its URL under ``render_js`` or when it sets
meta ``render_js``. The browser is Debian's Chromium (``PLAYWRIGHT_LAUNCH_OPTIONS``); pages
are read after the network is idle, so script-inserted links are in the HTML the spider sees.
Everything else goes through Scrapy's plain HTTP download handler.
"""

from __future__ import annotations

from scrapy import Request
from scrapy_playwright.page import PageMethod

from spiders.sites import SiteRegistry


class JavaScriptRenderingMiddleware:
    """Marks requests for the Playwright download handler."""

    def __init__(self, crawler, sites: SiteRegistry) -> None:
        self.crawler = crawler
        self.sites = sites

    @classmethod
    def from_crawler(cls, crawler):
        """Uses the crawler's site profiles."""
        return cls(crawler, SiteRegistry.from_settings(crawler.settings))

    def needs_browser(self, request: Request) -> bool:
        """True when the request must be rendered."""
        if request.meta.get("render_js"):
            return True
        profile = self.sites.for_url(request.url)
        return bool(profile and profile.needs_browser(request.url))

    def process_request(self, request: Request) -> None:
        """Route the request through the browser when it needs one."""
        if request.meta.get("playwright") or not self.needs_browser(request):
            return
        request.meta["playwright"] = True
        # Runtime-only (not JSON): the scheduler strips it before a retry is queued again.
        request.meta["playwright_page_methods"] = [PageMethod("wait_for_load_state", "networkidle")]
        self.crawler.stats.inc_value("render/browser")
