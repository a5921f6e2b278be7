"""How long a fetched product takes to be visible through the API, under demo load.

    python -m bench.freshness [--workers 2] [--poll 0.25]

Runs what `make demo` runs for the shop — the processors (`sluice process`), the API
(gunicorn) and `sluice crawl ecommerce --workers 2` with the project's Scrapy settings against
the demo shop in its own process — and meanwhile asks the API every ``--poll`` seconds for the
products updated since the crawl began (every page of the listing, as a client would).
A product's freshness is the moment the API first shows its new observation minus the moment
the spider made the item (its ``fetched_at``, which the API shows as ``last_seen_at``).
Polling adds up to one interval to each figure. Prints p50 and p95 over every product.
Needs the stack (`sluice stack up`) and the schema (`sluice migrate`).
"""

from __future__ import annotations

import argparse
import http.client
import json
import logging
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

from bench import api_server, processing, shop
from bench.figures import Expected, Figure, Goal, Quantity, complete, print_figures
from bench.http_load import percentile
from bench.steps import attempt
from demo.app import DEFAULT_SLOW_SECONDS
from processors.app import consumer_group
from sluice.settings import load_settings

log = logging.getLogger(__name__)

P50 = Expected(
    "freshness_p50",
    "fetch → visible through the API, p50, under demo load",
    Goal("<", 2, suffix=" s"),
    "p50",
)
P95 = Expected(
    "freshness_p95",
    "fetch → visible through the API, p95, under demo load",
    Goal("<", 2, suffix=" s"),
    "p95",
)
ROWS = (P50, P95)


class Watcher:
    """Pages through the products updated since a moment; remembers when each observation
    (product and ``last_seen_at``) was first shown."""

    def __init__(self, port: int, key: str, since: datetime) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.headers = {"X-API-Key": key}
        self.query = {"updated_since": since.isoformat(), "sort": "-updated_at", "limit": 200}
        self.first_seen: dict[tuple[str, str, str], float] = {}

    def poll(self) -> None:
        """Read every page once; note the new observations with the time they showed up."""
        cursor = None
        while True:
            query = {**self.query, **({"cursor": cursor} if cursor else {})}
            status, body = self._get("/api/v1/products?" + urlencode(query))
            if status != 200:
                raise RuntimeError(f"the API answered {status}: {body[:300]!r}")
            page = json.loads(body)
            now = time.time()
            for item in page["items"]:
                key = (item["source"], item["external_id"], item["last_seen_at"])
                self.first_seen.setdefault(key, now)
            cursor = page.get("next")
            if not cursor:
                return

    def _get(self, path: str) -> tuple[int, bytes]:
        try:
            return self._ask(path)
        except (OSError, http.client.HTTPException):
            # gunicorn closes a keep-alive connection idle for 2 s (while the processors are
            # asked for their lag): one new connection; a second failure stands.
            self.conn.close()
            return self._ask(path)

    def _ask(self, path: str) -> tuple[int, bytes]:
        self.conn.request("GET", path, headers=self.headers)
        response = self.conn.getresponse()
        return response.status, response.read()

    def delays(self) -> list[float]:
        """Seconds from each observation's fetch to its first showing, sorted."""
        return sorted(
            seen - datetime.fromisoformat(fetched.replace("Z", "+00:00")).timestamp()
            for (_, _, fetched), seen in self.first_seen.items()
        )


def crawl(settings, base: str, workers: int) -> subprocess.Popen:
    """`sluice crawl ecommerce` of the shop, as `make demo` runs it."""
    log_file = settings.stack_dir / "logs" / "bench" / "freshness-crawl.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    sluice = str(Path(sys.executable).with_name("sluice"))
    argv = [sluice, "crawl", "ecommerce", "--start-url", f"{base}/shop/",
            "--workers", str(workers)]  # fmt: skip
    with log_file.open("w") as out:
        return subprocess.Popen(argv, env=os.environ.copy(), stdout=out, stderr=subprocess.STDOUT)


def watch(settings, watcher: Watcher, crawler: subprocess.Popen, poll: float, limit: float) -> None:
    """Poll while the crawl runs and until the processors have caught up with it."""
    deadline = time.monotonic() + limit
    while crawler.poll() is None:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the crawl was still running after {limit:.0f} s")
        watcher.poll()
        time.sleep(poll)
    if crawler.returncode != 0:
        raise RuntimeError(f"`sluice crawl` exited {crawler.returncode}; see its log in .stack")
    while processing.lag(settings, consumer_group("normalizer")) > 0:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the normalizer had not caught up after {limit:.0f} s")
        watcher.poll()
        time.sleep(poll)
    watcher.poll()


def measure(settings, workers: int, poll: float, limit: float = 600) -> list[Figure]:
    """Every row of :data:`ROWS`, each measured or marked unmeasured with the reason."""

    def delays() -> list[Figure]:
        with (
            shop.running(slow_seconds=DEFAULT_SLOW_SECONDS) as base,
            api_server.api_key(settings) as key,
            api_server.served(settings) as port,
            processing.running(settings),
        ):
            watcher = Watcher(port, key, datetime.now(UTC))
            watch(settings, watcher, crawl(settings, base, workers), poll, limit)
        seen = watcher.delays()
        if not seen:
            raise RuntimeError("the API showed no product of the crawl")
        note = f"{len(seen)} products, {workers} crawl workers, API polled every {poll:g} s"
        return [
            row.measured(Quantity(percentile(seen, fraction), "s"), note=note)
            for row, fraction in ((P50, 0.5), (P95, 0.95))
        ]

    return complete(ROWS, attempt(ROWS, delays), "the benchmark returned no figure for it")


def main(argv: list[str] | None = None) -> list[Figure]:
    """Measure, print and return the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="crawl workers, as make demo")
    parser.add_argument("--poll", type=float, default=0.25, help="seconds between API reads")
    args = parser.parse_args(argv)
    figures = measure(load_settings(), args.workers, args.poll)
    print_figures(figures)
    return figures


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    main()
