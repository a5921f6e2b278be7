"""The API as the API benchmarks meet it: `sluice api` on a free port, a throwaway key, and
products to list.

Each is a context manager that undoes itself: the server stops, the key and the seeded
products are deleted.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

from api import keys
from bench import children
from sluice.storage import versions
from sluice.storage.postgres import connect
from sluice.storage.redis import client as redis_client


@contextlib.contextmanager
def served(
    settings, workers: int = 2, threads: int = 4, env: dict[str, str] | None = None
) -> Iterator[int]:
    """`sluice api` itself (gunicorn, its access log included) on a free port; yields the
    port. ``env`` adds to its environment. Its output goes to ``logs/bench/api.log`` under
    the stack folder."""
    port = children.free_port()
    log_file = settings.stack_dir / "logs" / "bench" / "api.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    sluice = str(Path(sys.executable).with_name("sluice"))
    env = {**os.environ, **(env or {}), "SLUICE_API_URL": f"http://127.0.0.1:{port}"}
    argv = [sluice, "api", "--workers", str(workers), "--threads", str(threads)]
    with log_file.open("w") as out:
        server = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        children.wait_answering(server, port, "/healthz", "`sluice api`", 60)
        yield port
    finally:
        children.stop(server)


@contextlib.contextmanager
def api_key(settings) -> Iterator[str]:
    """A key with a rate limit no benchmark reaches; deleted afterwards."""
    name = f"bench-{uuid.uuid4().hex[:8]}"
    with connect(settings.postgres_writer_url, autocommit=True) as conn:
        key = keys.create(conn, name, rate_limit=100_000_000).key
    try:
        yield key
    finally:
        with connect(settings.postgres_writer_url, autocommit=True) as conn:
            conn.execute("DELETE FROM api_keys WHERE name = %s", (name,))


@contextlib.contextmanager
def seeded_products(settings, count: int = 1000) -> Iterator[str]:
    """``count`` products of a scratch source, prices spread over 1-500 so price filters find
    rows; yields the source, deletes them afterwards. Bumps the products' data version, as
    the normalizer would, so no cached listing from before is served."""
    source = f"bench-api-{uuid.uuid4().hex[:8]}.localhost"
    with connect(settings.postgres_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO products (source, external_id, name, brand, category, price, currency, "
            "availability, url, first_seen_at, last_seen_at) "
            "SELECT %(s)s, 'SKU-' || n, 'Bench product ' || n, 'Bench', 'bench', "
            "1 + (n %% 500) + 0.99, 'USD', 'in_stock', 'http://' || %(s)s || '/p/' || n, "
            "now(), now() FROM generate_series(1, %(n)s) AS n",
            {"s": source, "n": count},
        )
    versions.bump(redis_client(settings.redis_url), ["products"])
    try:
        yield source
    finally:
        with connect(settings.postgres_url, autocommit=True) as conn:
            conn.execute("DELETE FROM products WHERE source = %s", (source,))
