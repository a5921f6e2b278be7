"""API requests/s and latency under gunicorn: cached and uncached product listings beside a
trivial endpoint on the same server, in one run.

    python -m bench.api_throughput [--seconds 10] [--clients 8] [--workers 2]

Starts `sluice api` (gunicorn, as deployed) on a free port over the running stack, with a
throwaway API key and 1,000 scratch products, then, each for ``--seconds`` with ``--clients``
keep-alive connections:
- ``/healthz`` (the baseline: routing, WSGI and HTTP only);
- one product listing of 50 rows asked again and again (a Redis cache hit after the first);
- product listings of 50 rows that differ every time (``min_price`` varies: each a cache miss
  that queries PostgreSQL and fills the cache);
- the cached listing paced at half the rate it reached, for its p50 and p99.
Every answer's ``X-Cache`` header is counted, so the cached case shows it was served from the
cache and the uncached one that it was not. Needs `sluice stack up` and `sluice migrate`.
"""

from __future__ import annotations

import argparse
import logging
import random
from urllib.parse import urlencode

from bench import api_server, http_load
from bench.figures import Expected, Figure, Goal, Quantity, complete, print_figures
from bench.steps import Once, attempt
from sluice.settings import load_settings

log = logging.getLogger(__name__)

CACHED_VS_HEALTHZ = Expected(
    "api_cached_vs_healthz",
    "API cached products listing (50 rows) ÷ /healthz, 8 connections",
    Goal(">=", 0.7),
    "cached listing",
    "/healthz",
)
CACHED_VS_UNCACHED = Expected(
    "api_cached_vs_uncached",
    "API cached ÷ uncached products listing",
    Goal(">=", 5),
    "cached listing",
    "uncached listing",
)
TAIL = Expected(
    "api_p99_vs_p50",
    "API p99 ÷ p50 at half of max load (cached listing)",
    Goal("<=", 5, suffix=""),
    "p99",
    "p50",
)
ROWS = (CACHED_VS_HEALTHZ, CACHED_VS_UNCACHED, TAIL)

LISTING = "/api/v1/products?" + urlencode({"limit": 50, "sort": "-price"})


def uncached_listing() -> str:
    """A listing of 50 nobody asked for yet (a price floor drawn afresh)."""
    return "/api/v1/products?" + urlencode(
        {"limit": 50, "min_price": f"{random.uniform(0, 400):.4f}"}
    )


def _cache_share(result: http_load.LoadResult) -> str:
    answers = sum(result.cache.values())
    hits = result.cache.get("HIT", 0)
    return f"{hits / answers:.0%} cache hits" if answers else "no answers"


def measure(settings, seconds: float, clients: int, workers: int) -> list[Figure]:
    """Every row of :data:`ROWS`, each measured or marked unmeasured with the reason."""
    with (
        api_server.seeded_products(settings),
        api_server.api_key(settings) as key,
        api_server.served(settings, workers) as port,
    ):
        headers = {"X-API-Key": key}

        def load(paths) -> http_load.LoadResult:
            return http_load.closed_loop(port, paths, headers, seconds, clients)

        cached = Once("the cached listing", lambda: load(lambda: LISTING))
        setup = (
            f"gunicorn {workers} workers x 4 threads, {clients} connections, {seconds:g} s per case"
        )

        def rate(result: http_load.LoadResult) -> Quantity:
            return Quantity(result.rate, "req/s")

        def against_healthz() -> list[Figure]:
            healthz = load(lambda: "/healthz")
            note = f"{setup}; cached: {_cache_share(cached())}"
            return [CACHED_VS_HEALTHZ.measured(rate(cached()), rate(healthz), note)]

        def against_uncached() -> list[Figure]:
            uncached = load(uncached_listing)
            note = f"{setup}; uncached: {_cache_share(uncached)}"
            return [CACHED_VS_UNCACHED.measured(rate(cached()), rate(uncached), note)]

        def tail() -> list[Figure]:
            half = cached().rate / 2
            result = http_load.paced(port, lambda: LISTING, headers, seconds, clients, half)
            note = f"paced at {half:,.0f} req/s, {len(result.latencies):,} requests"
            return [
                TAIL.measured(
                    Quantity(result.percentile_ms(0.99), "ms"),
                    Quantity(result.percentile_ms(0.5), "ms"),
                    note,
                )
            ]

        figures = [
            *attempt([CACHED_VS_HEALTHZ], against_healthz),
            *attempt([CACHED_VS_UNCACHED], against_uncached),
            *attempt([TAIL], tail),
        ]
    return complete(ROWS, figures, "the benchmark returned no figure for it")


def main(argv: list[str] | None = None) -> list[Figure]:
    """Measure, print and return the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10, help="of load per case")
    parser.add_argument("--clients", type=int, default=8, help="concurrent connections")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    args = parser.parse_args(argv)
    figures = measure(load_settings(), args.seconds, args.clients, args.workers)
    print_figures(figures)
    return figures


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    main()
