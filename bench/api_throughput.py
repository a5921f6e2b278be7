"""API requests/s and p99 under gunicorn: cached and uncached product listings beside a trivial
endpoint on the same server, in one run.

    .venv/bin/python -m bench.api_throughput [--seconds 10] [--clients 8]

Starts its own gunicorn (the same command as `sluice api`, on a free port) over the running
stack, creates a throwaway API key, then for each case runs ``--clients`` keep-alive clients
for ``--seconds``:
- ``/healthz`` (the baseline: routing, WSGI and HTTP only);
- one product listing asked again and again (a Redis cache hit after the first);
- product listings that differ every time (``min_price`` varies: each one a cache miss that
  queries PostgreSQL and fills the cache).
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
import threading
import time
import uuid
from urllib.parse import urlencode

from api import keys
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


def load(port: int, paths, headers: dict, seconds: float, clients: int) -> tuple[float, float]:
    """(requests/s, p99 ms) of ``clients`` keep-alive clients asking ``paths()`` for a while."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine = []
        while time.monotonic() < stop:
            began = time.perf_counter()
            conn.request("GET", paths(), headers=headers)
            response = conn.getresponse()
            response.read()
            mine.append(time.perf_counter() - began)
            if response.status != 200:
                errors.append(f"{response.status}")
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    if errors:
        raise RuntimeError(f"{len(errors)} requests failed, e.g. HTTP {errors[0]}")
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    return len(latencies) / elapsed, p99


def main() -> None:
    """Run the three cases side by side and print requests/s, p99 and ratios."""
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
    cases = [
        ("GET /healthz (baseline)", lambda: "/healthz"),
        ("products, cached (same query)", lambda: listing),
        (
            "products, uncached (new query each time)",
            lambda: (
                "/api/v1/products?"
                + urlencode({"limit": 50, "min_price": f"{random.uniform(0, 500):.4f}"})
            ),
        ),
    ]
    try:
        results = [(label, *load(port, paths, headers, args.seconds, args.clients))
                   for label, paths in cases]  # fmt: skip
    finally:
        server.terminate()
        server.wait(30)
        with connect(settings.postgres_writer_url, autocommit=True) as conn:
            conn.execute("DELETE FROM api_keys WHERE name = %s", (name,))
    base_rate = results[0][1]
    print(f"gunicorn {args.workers} workers x 4 threads, {args.clients} clients, "
          f"{args.seconds:.0f} s per case")  # fmt: skip
    print(f"{'case':<44} {'req/s':>8} {'p99 ms':>8} {'vs baseline':>12}")
    for label, rate, p99 in results:
        print(f"{label:<44} {rate:8.0f} {p99:8.1f} {rate / base_rate:11.2f}x")


if __name__ == "__main__":
    main()
