"""Scrapy settings of the Sluice project.

Addresses come from Sluice's settings (environment and ``.env``) so `scrapy crawl` and
`sluice crawl` talk to the same Redis and Kafka; everything else is overridable per run with
``-s NAME=VALUE``.
"""

from scrapy.settings import default_settings as _default_settings

from sluice.settings import load_settings

_sluice = load_settings()

BOT_NAME = "sluice"
SPIDER_MODULES = ["spiders.spiders"]
NEWSPIDER_MODULE = "spiders.spiders"

# -- politeness: robots.txt, AutoThrottle, retries --------------------------------------------
ROBOTSTXT_OBEY = True
USER_AGENT = "SluiceBot/0.1 (+https://github.com/sluice-data/sluice)"
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 8
DOWNLOAD_TIMEOUT = 30
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.1
AUTOTHROTTLE_MAX_DELAY = 10.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 4.0
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
# Scrapy's own list, plus a browser page that did not load in time: on a busy machine a
# JavaScript page can miss PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT once, and without a retry its
# products would be missing from the crawl.
RETRY_EXCEPTIONS = [
    *_default_settings.RETRY_EXCEPTIONS,
    "playwright._impl._errors.TimeoutError",
]
# One budget per site (host[:port]) shared by every worker in Redis: a site profile's `rate`,
# else its robots.txt Crawl-delay, else this many requests/s (0: no ceiling).
DEFAULT_HOST_RATE = 4.0
# A 429 (or a 503 with Retry-After) pauses the site for every worker and requeues the request,
# beyond RETRY_TIMES, for at most THROTTLE_MAX_WAIT s per request; THROTTLE_DEFAULT_WAIT when
# the answer names no usable wait.
THROTTLE_MAX_WAIT = 600.0
THROTTLE_DEFAULT_WAIT = 5.0
# How far ahead (s) a worker may lease a site's next request; it waits for its turn after.
SLUICE_LEASE_LOOKAHEAD = 1.0
# A site with no ceiling (interval 0) is sent to without a reservation for this long (s) after
# one found it unpaused: a Retry-After pause set by another worker binds within this time.
SLUICE_POLITENESS_CACHE = 0.1
USER_AGENTS: list[str] = []  # rotated per request when set
PROXIES = [proxy.strip() for proxy in _sluice.proxies.split(",") if proxy.strip()]
DENY_PATTERNS = [r"/(cart|checkout|login|logout|account)(/|\?|$)"]
SITE_PROFILES: list[dict] = []

# -- the distributed crawl: scrapy-redis scheduler with leases and a Bloom duplicate filter ----
SCHEDULER = "spiders.scheduler.LeasedScheduler"
REDIS_URL = _sluice.redis_url
SLUICE_LEASE_TTL = _sluice.lease_ttl
SLUICE_SKIP_UNCHANGED = _sluice.skip_unchanged
SLUICE_UNCHANGED_MEMORY_DAYS = _sluice.unchanged_memory_days
SLUICE_REDIS_RETRIES = 20
SLUICE_POLL_INTERVAL = 0.5
# Requests leased per round trip; the worker keeps the extra ones until its engine asks.
SLUICE_LEASE_BATCH = 8
DUPEFILTER_CAPACITY = 10_000_000
DUPEFILTER_ERROR_RATE = 0.0001

DOWNLOADER_MIDDLEWARES = {
    # Scrapy's own sends unchecked most requests that wait for a site's robots.txt (see ours).
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "spiders.middlewares.robots.RobotsTxtMiddleware": 100,
    "spiders.middlewares.rendering.JavaScriptRenderingMiddleware": 300,
    "spiders.middlewares.rotation.UserAgentRotationMiddleware": 400,
    "spiders.middlewares.rotation.ProxyRotationMiddleware": 410,
    # After Retry (550) and Redirect (600): sees a 429 before the retry middleware does, and
    # waits for the site's turn as the last step before the download.
    "spiders.middlewares.politeness.PolitenessMiddleware": 650,
}
SPIDER_MIDDLEWARES = {
    # Closest to the engine: sees the callback's whole output, then completes the lease.
    "spiders.middlewares.leases.LeaseMiddleware": 10,
    "spiders.middlewares.filtering.RequestFilterMiddleware": 600,
}

EXTENSIONS = {"spiders.extensions.CrawlStatsSync": 500, "spiders.metrics.PrometheusStats": 510}
CRAWL_STATS_INTERVAL = 1.0

# -- items: validate with the shared schemas, then publish to Kafka -----------------------------
ITEM_PIPELINES = {
    "spiders.pipelines.validation.ValidationPipeline": 100,
    "spiders.pipelines.unchanged.UnchangedItemsPipeline": 500,
    "spiders.pipelines.kafka.KafkaPipeline": 900,
}
# The Kafka connection (addresses, TLS, SASL) as librdkafka properties.
KAFKA_CONNECTION = _sluice.kafka
KAFKA_FLUSH_TIMEOUT = 60.0
# Test-only (SLUICE_DRILL_ACK_BEFORE_DELIVERY): requests are acknowledged, and a worker ends,
# without waiting for Kafka to confirm their items; the fault drills show it loses items.
SLUICE_DRILL_ACK_BEFORE_DELIVERY = _sluice.drill_ack_before_delivery

# -- pages that need JavaScript: scrapy-playwright on Debian's Chromium, per request ------------
DOWNLOAD_HANDLERS = {
    "http": "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler",
    "https": "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler",
}
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
PLAYWRIGHT_BROWSER_TYPE = "chromium"
PLAYWRIGHT_LAUNCH_OPTIONS = {
    "executable_path": _sluice.chromium,
    "headless": True,
    "args": [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ],
}
PLAYWRIGHT_MAX_PAGES_PER_CONTEXT = 4
PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT = 30_000

LOG_LEVEL = _sluice.log_level.upper()
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
FEED_EXPORT_ENCODING = "utf-8"
