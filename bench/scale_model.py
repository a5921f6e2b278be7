"""API keyset-page latency over a catalog of millions: every documented filter and sort of
the products listing, and the price history, first page and a deep page, uncached.

    python -m bench.scale_model [--products 10000000] [--scale 1] [--requests 100] [--keep]

Generates ``--products`` products (times ``--scale``, the harness's BENCH_SCALE) and ten price
rows each in a scratch schema (:mod:`bench.scale_data`; never beside real data, dropped
afterwards unless ``--keep``, and reused by the next run when kept), starts `sluice api`
(gunicorn, as deployed) reading that schema, and asks each case of
:mod:`bench.scale_cases` ``--requests`` times, around as many sample products drawn at random:
the first page, then the page after the sample reached through its cursor. The products'
data version is bumped before each request, so every answer is a cache miss that queries
PostgreSQL. Prints the size it used, how long generation took and p50/p99 per case.
Checks the free disk first. Needs `sluice stack up` and `sluice migrate`.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import logging
import random
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote, urlencode, urlsplit

from bench import api_server
from bench import scale_data as data
from bench.figures import Expected, Figure, Goal, Quantity, complete, print_figures
from bench.http_load import percentile
from bench.scale_cases import CASES, Case, Sample
from bench.steps import attempt
from sluice.connections import with_query
from sluice.settings import load_settings
from sluice.storage import versions
from sluice.storage.postgres import connect
from sluice.storage.redis import client as redis_client

log = logging.getLogger(__name__)

PAGES = ("first", "deep")
#: the goal this benchmark sets for an uncached keyset page (a figure of our own)
P99_GOAL = Goal("<", 100, suffix=" ms")
#: disk a catalog takes per product and per price row, indexes included (measured at 10M)
BYTES_PER_PRODUCT = 600
BYTES_PER_PRICE = 140
#: free disk left over after the catalog, for everything else on the machine
DISK_MARGIN = 5 * 2**30


def row(case: Case, page: str) -> Expected:
    """The figure of one case's page."""
    return Expected(
        f"scale_{case.key}_{page}",
        f"scale: {case.label}, {page} page, p99 uncached",
        P99_GOAL,
        "p99",
    )


GENERATION = Expected("scale_generation", "scale: catalog generation", None, "rows/s")
ROWS = (GENERATION, *(row(case, page) for case in CASES for page in PAGES))


def disk_needed(size: data.Size) -> int:
    """Bytes a catalog of ``size`` takes on disk, its indexes included (an estimate)."""
    return size.products * BYTES_PER_PRODUCT + size.prices * BYTES_PER_PRICE


def check_disk(size: data.Size, free: int) -> None:
    """Refuse, saying what fits, when the catalog would leave less than the margin free."""
    if disk_needed(size) + DISK_MARGIN > free:
        fits = max(0, free - DISK_MARGIN) // disk_needed(data.Size(1, size.prices_per_product))
        raise SystemExit(
            f"scale_model: {size.label} need about {disk_needed(size) / 2**30:,.1f} GiB and "
            f"{free / 2**30:,.1f} GiB are free; about {fits:,} products fit (--products)"
        )


def reader_url(url: str, schema: str) -> str:
    """The API's PostgreSQL URL with the catalog's schema first on its search path, so its
    unqualified ``products`` are the catalog's (and ``api_keys`` still public's)."""
    return with_query(url, {"options": f"-csearch_path={schema},public"})


@dataclass(frozen=True)
class Timings:
    """What one case's page saw: latencies in seconds (sorted) and cache answers."""

    latencies: list[float]
    misses: int

    def figure(self, expected: Expected) -> Figure:
        """The figure: p99, with p50 and the count in the note."""
        p50, p99 = (percentile(self.latencies, f) * 1000 for f in (0.5, 0.99))
        note = (
            f"p50 {p50:.1f} ms; {len(self.latencies)} requests, "
            f"{self.misses} cache misses; one connection"
        )
        return expected.measured(Quantity(p99, "ms"), note=note)


def ask(conn: http.client.HTTPConnection, path: str, params: dict, key: str) -> tuple[float, str]:
    """(seconds, X-Cache) of one GET; raises when the API does not answer 200."""
    target = f"{path}?{urlencode(params, quote_via=quote)}"
    began = time.perf_counter()
    conn.request("GET", target, headers={"X-API-Key": key})
    response = conn.getresponse()
    body = response.read()
    elapsed = time.perf_counter() - began
    if response.status != 200:
        raise RuntimeError(f"GET {target} answered {response.status}: {body[:200]!r}")
    return elapsed, response.getheader("X-Cache", "-")


def measure_case(port, key, redis, case: Case, page: str, samples: list[Sample]) -> Timings:
    """The case's page asked once around each sample, each time a cache miss."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    latencies, misses = [], 0
    try:
        for sample in samples:
            path, params = case.first_page(sample) if page == "first" else case.deep_page(sample)
            versions.bump(redis, ["products"])  # nothing cached can answer
            elapsed, cache = ask(conn, path, params, key)
            latencies.append(elapsed)
            misses += cache == "MISS"
    finally:
        conn.close()
    return Timings(sorted(latencies), misses)


@contextlib.contextmanager
def catalog(settings, size: data.Size, keep: bool) -> Iterator[tuple[float | None, str]]:
    """The catalog of ``size``: (seconds generation took, or None when a kept one was
    reused; the reader role's URL for it). Dropped afterwards unless ``keep``."""
    reader = settings.postgres_reader_url
    role = urlsplit(reader).username
    with connect(settings.postgres_url, autocommit=True) as conn:
        took = None
        if data.exists(conn, size):
            print(f"scale_model: reusing the kept catalog {size.schema} ({size.label})")
        else:
            stack_dir = settings.stack_dir
            if not stack_dir.is_absolute():
                stack_dir = settings.project_dir / stack_dir
            free = shutil.disk_usage(stack_dir).free
            check_disk(size, free)
            print(f"scale_model: generating {size.label} in {size.schema}", flush=True)
            data.lower_priority(conn)
            took = data.generate(conn, size, reader=role, progress=print)
    try:
        yield took, reader_url(reader, size.schema)
    finally:
        if not keep:
            with connect(settings.postgres_url, autocommit=True) as conn:
                data.drop(conn, size.schema)


def measure(settings, size: data.Size, requests: int, keep: bool, seed: int) -> list[Figure]:
    """Every row of :data:`ROWS`, each measured or marked unmeasured with the reason."""
    figures: list[Figure] = []
    with catalog(settings, size, keep) as (took, url):
        print(f"scale_model: size used: {size.label}", flush=True)
        if took is not None:
            rate = (size.products + size.prices) / took
            note = f"{size.label} in {took:,.0f} s (indexes and statistics included)"
            figures.append(GENERATION.measured(Quantity(rate, "rows/s"), note=note))
        pick = random.Random(seed)
        with connect(settings.postgres_url, autocommit=True) as conn:
            ids = [pick.randint(1, size.products) for _ in range(requests)]
            samples = [data.sample(conn, size, product_id) for product_id in ids]
        settings_env = {"SLUICE_POSTGRES_READER_URL": url}
        with (
            api_server.api_key(settings) as key,
            api_server.served(settings, env=settings_env) as port,
        ):
            redis = redis_client(settings.redis_url)
            # The workers' first requests open their pools: not a page's latency.
            warm_up = CASES[0]
            for _ in range(8):
                measure_case(port, key, redis, warm_up, "first", samples[:1])
            for case in CASES:
                for page in PAGES:
                    expected = row(case, page)
                    figures += attempt(
                        [expected],
                        lambda case=case, page=page, expected=expected: [
                            measure_case(port, key, redis, case, page, samples).figure(expected)
                        ],
                    )
    return complete(ROWS, figures, "a kept catalog was reused: generation not timed")


def main(argv: list[str] | None = None) -> list[Figure]:
    """Generate, measure, print and return the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=10_000_000, help="at --scale 1")
    parser.add_argument("--scale", type=float, default=1.0, help="BENCH_SCALE (default 1)")
    parser.add_argument("--requests", type=int, default=100, help="per case and page")
    parser.add_argument("--keep", action="store_true", help="keep the catalog for the next run")
    parser.add_argument("--seed", type=int, default=7, help="of the sample products")
    args = parser.parse_args(argv)
    if args.scale <= 0 or args.products < 1 or args.requests < 1:
        parser.error("--scale, --products and --requests must be above 0")
    size = data.Size(data.scaled(args.products, args.scale))
    figures = measure(load_settings(), size, args.requests, args.keep, args.seed)
    print_figures(figures)
    for figure in figures:
        if figure.note:
            print(f"{figure.expected.label}: {figure.note}")
    print(f"scale_model: size used: {size.label}")
    return figures


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    main()
