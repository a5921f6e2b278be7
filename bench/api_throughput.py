"""API requests/s and latency under gunicorn: cached and uncached product listings beside a
trivial endpoint on the same server, in one run, each figure beside its baseline as a ratio.

    .venv/bin/python -m bench.api_throughput [--seconds 10] [--clients 8]

Starts its own gunicorn (the same command as `sluice api`, on a free port) over the running
stack, creates a throwaway API key, then runs ``--clients`` keep-alive connections
(bench.http_load) for ``--seconds`` per case:
- ``/healthz`` flat out (the baseline: routing, WSGI and HTTP only);
- one product listing of 50 rows asked again and again, flat out (a Redis cache hit after the
  first), against /healthz;
- product listings that differ every time (``min_price`` varies: each one a cache miss that
  queries PostgreSQL and fills the cache), against the cached listing;
- the cached listing and /healthz again, each paced at half of its own maximum rate: p50 and
  p99 there, and p99/p50 beside /healthz's.
Needs `sluice stack up` and `sluice migrate` (and some products: `make demo`).
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import socket
import subprocess
import sys
import time
import uuid
from urllib.parse import urlencode

from api import keys
from bench import http_load
from sluice.settings import load_settings
from sluice.storage.postgres import connect


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(port: int, workers: int) -> subprocess.Popen:
    """gunicorn with the API's app factory, as `sluice api` runs it."""
    argv = [
        sys.executable, "-m", "gunicorn", "api.app:create_app()", "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers), "--threads", "4", "--worker-class", "gthread",
        "--log-level", "warning",
    ]  # fmt: skip
    server = subprocess.Popen(argv, env=os.environ.copy())
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("gunicorn did not answer /healthz within 30 s")


def main() -> None:
    """Run the cases side by side and print requests/s, latencies and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    settings = load_settings()
    name = f"bench-{uuid.uuid4().hex[:8]}"
    with connect(settings.postgres_writer_url, autocommit=True) as conn:
        key = keys.create(conn, name, rate_limit=100_000_000).key
    port = free_port()
    server = start_server(port, args.workers)
    headers = {"X-API-Key": key}
    listing = "/api/v1/products?" + urlencode({"limit": 50, "sort": "-price"})

    def health() -> str:
        return "/healthz"

    def cached() -> str:
        return listing

    def uncached() -> str:
        return "/api/v1/products?" + urlencode(
            {"limit": 50, "min_price": f"{random.uniform(0, 500):.4f}"}
        )

    def measure(paths, rate: float | None = None) -> http_load.Load:
        return http_load.run(port, paths, headers, args.seconds, args.clients, rate)

    try:
        measure(cached, None)  # warm: the pools, the stored listing
        flat = {"healthz": measure(health), "cached": measure(cached)}
        flat["uncached"] = measure(uncached)
        paced = {
            "healthz": measure(health, flat["healthz"].rate / 2),
            "cached": measure(cached, flat["cached"].rate / 2),
        }
    finally:
        server.terminate()
        server.wait(30)
        with connect(settings.postgres_writer_url, autocommit=True) as conn:
            conn.execute("DELETE FROM api_keys WHERE name = %s", (name,))
    print(report(args, flat, paced))


def report(args: argparse.Namespace, flat: dict, paced: dict) -> str:
    """The figures as a table, each case's ratio to its baseline on its line."""
    rows = [
        ("GET /healthz, flat out", flat["healthz"], "(baseline)"),
        ("products cached, flat out", flat["cached"],
         f"{flat['cached'].rate / flat['healthz'].rate:.2f}x /healthz req/s"),
        ("products uncached, flat out", flat["uncached"],
         f"cached {flat['cached'].rate / flat['uncached'].rate:.2f}x uncached req/s"),
        (f"GET /healthz at {paced['healthz'].rate:.0f} req/s", paced["healthz"],
         f"p99/p50 {paced['healthz'].tail:.2f} (baseline)"),
        (f"products cached at {paced['cached'].rate:.0f} req/s", paced["cached"],
         f"p99/p50 {paced['cached'].tail:.2f}"),
    ]  # fmt: skip
    lines = [
        f"gunicorn {args.workers} workers x 4 threads, {args.clients} connections, "
        f"{args.seconds:.0f} s per case; paced cases at half of their flat-out rate",
        f"{'case':<38} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7}  ratio",
    ]
    for label, load, ratio in rows:
        lines.append(f"{label:<38} {load.rate:7.0f} {load.p50:7.2f} {load.p99:7.2f}  {ratio}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
