"""An incremental crawl: the demo shop crawled a second time with nothing changed, and again
after some prices changed.

    python -m bench.incremental [--workers 2] [--changes 5]

Runs the processors (`sluice process`) and `sluice crawl ecommerce --wait-processed --json`
against the demo shop in its own process, three times on the same address: a first crawl
(which may find the products already stored, but on this address never published), a second
with the shop unchanged, and a third after ``/_demo/reprice`` made ``--changes`` products one
unit dearer. Reports the second crawl beside the first (bytes downloaded, items published
whole, wall time) and what the third left: new ``product_prices`` rows and price changes in the
change feed (read through :mod:`sluice.changes`, from the feed's end before the third crawl).
Needs the stack (`sluice stack up`) and the schema (`sluice migrate`).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

from sqlalchemy import create_engine

from bench import processing, shop
from bench.figures import Expected, Figure, Goal, Quantity, complete, print_figures
from bench.steps import attempt
from sluice import changes
from sluice.settings import load_settings
from sluice.storage import postgres

log = logging.getLogger(__name__)

BYTES = Expected(
    "incremental_bytes",
    "second crawl of the unchanged shop: bytes downloaded ÷ the first crawl's",
    Goal("<=", 0.10),
    "second crawl",
    "first crawl",
)
ITEMS = Expected(
    "incremental_items",
    "second crawl of the unchanged shop: items published whole",
    Goal("==", 0, suffix=""),
    "items",
)
TIME = Expected(
    "incremental_time",
    "second crawl of the unchanged shop: wall time ÷ the first crawl's",
    Goal("<=", 0.30),
    "second crawl",
    "first crawl",
)
PRICE_ROWS = Expected(
    "incremental_price_rows",
    "third crawl, 5 prices changed: new product_prices rows",
    Goal("==", 5, suffix=""),
    "rows",
)
FEED = Expected(
    "incremental_feed",
    "third crawl, 5 prices changed: price changes in the change feed",
    Goal("==", 5, suffix=""),
    "changes",
)
ROWS = (BYTES, ITEMS, TIME, PRICE_ROWS, FEED)


def crawl(settings, base: str, workers: int) -> dict:
    """`sluice crawl ecommerce` of the shop until the processors stored it; its summary."""
    log_file = settings.stack_dir / "logs" / "bench" / "incremental-crawl.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    sluice = str(Path(sys.executable).with_name("sluice"))
    argv = [sluice, "crawl", "ecommerce", "--start-url", f"{base}/shop/", "--workers",
            str(workers), "--wait-processed", "--json"]  # fmt: skip
    with log_file.open("a") as errors:
        done = subprocess.run(
            argv, env=os.environ.copy(), stdout=subprocess.PIPE, stderr=errors, text=True,
            timeout=900, check=False,
        )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"`sluice crawl` exited {done.returncode}; see {log_file}")
    return json.loads(done.stdout)


def reprice(base: str, count: int) -> list[str]:
    """Make ``count`` products of the shop one unit dearer; their skus."""
    body = json.dumps({"count": count}).encode()
    request = urllib.request.Request(  # noqa: S310 - the shop this benchmark started
        f"{base}/_demo/reprice", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
        return json.loads(answer.read())["repriced"]


def measure(settings, workers: int, count: int) -> list[Figure]:
    """Every row of :data:`ROWS`, each measured or marked unmeasured with the reason."""
    engine = create_engine(postgres.sqlalchemy_url(settings.postgres_reader_url))

    def run() -> list[Figure]:
        with processing.running(settings), shop.running() as base:
            first, second = crawl(settings, base, workers), crawl(settings, base, workers)
            with engine.connect() as conn:
                before = changes.end(conn)
            repriced = reprice(base, count)
            third = crawl(settings, base, workers)
        with engine.connect() as conn:
            found, _ = changes.read(conn, before, ["price"], limit=10_000)
        mine = [c for _, c in found if c["crawl_id"] == third["crawl_id"]]
        with postgres.connect(settings.postgres_reader_url) as conn:
            rows = conn.execute(
                "SELECT count(*) FROM product_prices WHERE crawl_id = %s", (third["crawl_id"],)
            ).fetchone()[0]
        whole = second["items"] - second["unchanged"]
        note = (
            f"{first['items']} products, {workers} workers; the first crawl published "
            f"{first['items'] - first['unchanged']} whole"
        )
        changed = f"{len(repriced)} prices changed ({', '.join(repriced)})"
        return [
            BYTES.measured(Quantity(second["bytes"], "bytes"), Quantity(first["bytes"], "bytes"),
                           note=note),
            ITEMS.measured(Quantity(whole, "items"), note=f"{second['unchanged']} seen notices"),
            TIME.measured(Quantity(second["duration_s"], "s"), Quantity(first["duration_s"], "s"),
                          note=note),
            PRICE_ROWS.measured(Quantity(rows, "rows"), note=changed),
            FEED.measured(Quantity(len(mine), "changes"), note=changed),
        ]  # fmt: skip

    try:
        return complete(ROWS, attempt(ROWS, run), "the benchmark returned no figure for it")
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> list[Figure]:
    """Measure, print and return the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="crawl workers, as make demo")
    parser.add_argument("--changes", type=int, default=5, help="prices changed before crawl 3")
    args = parser.parse_args(argv)
    figures = measure(load_settings(), args.workers, args.changes)
    print_figures(figures)
    return figures


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    main()
