"""A small shop with rules, served in a thread: robots.txt with a Crawl-delay and a sitemap, a
request rate it enforces with 429 + Retry-After, and a log of every request it answered.

By default 15 products (``P-01`` .. ``P-15``): the home page and its second page (reached only
through ``<link rel="next">``) link to the first 12; the last 3 appear only in its sitemap,
which robots.txt names through a sitemap index pointing at a gzipped sitemap. robots.txt also
names a "sitemap" that is an HTML page.
"""

from __future__ import annotations

import gzip
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Hit:
    """One request the site answered."""

    at: float
    path: str
    status: int


@dataclass
class SiteRules:
    """What the site asks of crawlers, and how it enforces it."""

    #: robots.txt Crawl-delay (None: no such line)
    crawl_delay: str | None = "0.25"
    #: requests/s it serves (one more is tolerated in any second, for network jitter) before
    #: answering 429 (0: no limit)
    allowed_rate: float = 4.0
    retry_after: str = "2"
    #: answer the request with this 1-based number 429 (with retry_after), whatever the rate
    throttle_request: int = 0
    #: paths answered 500 every time (until removed)
    failing: set[str] = field(default_factory=set)


@dataclass
class PoliteSite:
    """The site's state; :meth:`start` serves it on 127.0.0.1 at a free port."""

    rules: SiteRules = field(default_factory=SiteRules)
    products: int = 15
    linked: int = 12
    hits: list[Hit] = field(default_factory=list)
    #: product number -> its price now (others cost 10 + their number)
    prices: dict[int, str] = field(default_factory=dict)

    def start(self) -> PoliteSite:
        """Serve in a daemon thread; ``base`` is the site's address."""
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, body, headers = site.answer(self.path)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                """Quiet: the site keeps its own log."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._lock = threading.Lock()
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()

    # -- what it answers -----------------------------------------------------------------------
    def answer(self, path: str) -> tuple[int, bytes, dict[str, str]]:
        """Status, body and headers for ``path``; every answer is logged."""
        now = time.monotonic()
        with self._lock:
            recent = [h for h in self.hits if now - h.at < 1.0 and h.status != 429]
            number = len(self.hits) + 1
            limited = self.rules.allowed_rate and len(recent) > self.rules.allowed_rate
            if number == self.rules.throttle_request or limited:
                self.hits.append(Hit(now, path, 429))
                return 429, b"slow down", {"Retry-After": self.rules.retry_after}
            status, body, kind = self._page(path)
            self.hits.append(Hit(now, path, status))
        return status, body, {"Content-Type": kind}

    def _page(self, path: str) -> tuple[int, bytes, str]:
        if path in self.rules.failing:
            return 500, b"broken", "text/plain"
        if path == "/robots.txt":
            lines = ["User-agent: *", "Disallow: /private/"]
            if self.rules.crawl_delay is not None:
                lines.append(f"Crawl-delay: {self.rules.crawl_delay}")
            lines.append(f"Sitemap: {self.base}/sitemap_index.xml")
            lines.append(f"Sitemap: {self.base}/not-a-sitemap.xml")
            return 200, ("\n".join(lines) + "\n").encode(), "text/plain"
        if path in ("/", "/page/2"):
            half = (self.linked + 1) // 2
            shown = range(1, half + 1) if path == "/" else range(half + 1, self.linked + 1)
            links = "".join(f'<a href="/p/{n}">product {n}</a>' for n in shown)
            following = '<link rel="next" href="/page/2">' if path == "/" else ""
            page = f"<html><head>{following}</head><body>{links}</body></html>"
            return 200, page.encode(), "text/html"
        if path == "/sitemap_index.xml":
            xml = (
                f'<?xml version="1.0"?><sitemapindex xmlns="{SITEMAP_NS}"><sitemap>'
                f"<loc>{self.base}/sitemap-products.xml.gz</loc></sitemap></sitemapindex>"
            )
            return 200, xml.encode(), "application/xml"
        if path == "/sitemap-products.xml.gz":
            urls = "".join(f"<url><loc>{self.base}/p/{n}</loc></url>" for n in self.numbers())
            xml = f'<?xml version="1.0"?><urlset xmlns="{SITEMAP_NS}">{urls}</urlset>'
            return 200, gzip.compress(xml.encode()), "application/gzip"
        if path == "/not-a-sitemap.xml":
            return 200, b"<html><body>Sitemap? No.</body></html>", "text/html"
        if path.startswith("/p/") and path[3:].isdigit() and int(path[3:]) in self.numbers():
            return 200, self.product_page(int(path[3:])).encode(), "text/html"
        return 404, b"not here", "text/plain"

    def numbers(self) -> range:
        """Every product number."""
        return range(1, self.products + 1)

    def skus(self, linked_only: bool = False) -> set[str]:
        """The products' skus (only those the home page links to, when asked)."""
        last = self.linked if linked_only else self.products
        return {f"P-{n:02d}" for n in range(1, last + 1)}

    def product_page(self, n: int) -> str:
        """A page with one schema.org Product in JSON-LD."""
        product = {
            "@context": "https://schema.org",
            "@type": "Product",
            "name": f"Polite widget {n}",
            "sku": f"P-{n:02d}",
            "brand": {"@type": "Brand", "name": "Polite"},
            "url": f"{self.base}/p/{n}",
            "offers": {
                "@type": "Offer",
                "price": self.prices.get(n, f"{10 + n}.00"),
                "priceCurrency": "USD",
                "availability": "https://schema.org/InStock",
            },
        }
        script = f'<script type="application/ld+json">{json.dumps(product)}</script>'
        return f"<html><head>{script}</head><body><h1>{product['name']}</h1></body></html>"

    # -- what it saw ---------------------------------------------------------------------------
    def busiest_second(self) -> int:
        """The most requests that arrived within any one second."""
        times = sorted(h.at for h in self.hits)
        return max(
            (sum(1 for t in times if start <= t < start + 1.0) for start in times), default=0
        )

    def throttled(self) -> list[Hit]:
        """The requests answered 429."""
        return [h for h in self.hits if h.status == 429]


SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
