"""Every benchmark in one run, then ``bench/RESULTS.md``: what `make bench` runs.

    python -m bench [--scale 1] [--only NAME ...] [--out bench/RESULTS.md]

``--scale`` shrinks the sizes (backlogs, seconds of load, rounds) for a quick check that the
harness works (``make bench BENCH_SCALE=0.05``); the figures of a reduced run are not the
benchmark's. A benchmark that fails leaves its rows in the table, marked as not measured with
the reason, and the harness goes on with the next. Needs the stack and the schema
(`make bench` starts one and applies the other).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from bench import cpu_share
from bench.figures import Expected, Figure
from bench.machine import Machine, revision
from bench.results import Run, Step, render
from bench.steps import attempt
from sluice.settings import load_settings
from sluice.storage import postgres

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Benchmark:
    """A benchmark module (``bench.<name>``, with ``ROWS`` and ``main(argv)``) and the
    arguments it gets at a scale."""

    name: str
    argv: Callable[[float], list[str]]


def _sized(full: int, floor: int, scale: float) -> str:
    return str(max(floor, int(full * scale)))


BENCHMARKS = (
    Benchmark(
        "processor_throughput",
        lambda s: ["--rows", _sized(20_000, 2_000, s), "--docs", _sized(5_000, 1_000, s)],
    ),
    Benchmark("api_throughput", lambda s: ["--seconds", f"{max(1.0, 10 * s):g}"]),
    # Before the crawl benchmark, which leaves its items on the raw topics for the
    # processors to catch up with.
    Benchmark("freshness", lambda s: []),
    Benchmark("incremental", lambda s: []),
    Benchmark("crawl_throughput", lambda s: ["--rounds", "2" if s >= 1 else "1"]),
    Benchmark(
        "metrics_overhead",
        lambda s: ["--rows", _sized(20_000, 2_000, s), "--rounds", "2" if s >= 1 else "1"],
    ),
    Benchmark(
        "processor_memory",
        lambda s: ["--messages", _sized(500_000, 20_000, s), "--seconds", _sized(30, 5, s)],
    ),
)


def check_stack(settings) -> None:
    """Fail fast, saying what to do, when the stack or the schema is not there."""
    try:
        with postgres.connect(settings.postgres_url, autocommit=True) as conn:
            found = conn.execute("SELECT to_regclass('products')").fetchone()
    except psycopg.OperationalError as exc:
        raise SystemExit(
            f"bench: PostgreSQL does not answer ({exc}); start the stack: `sluice stack up` "
            "(make bench does)"
        ) from exc
    if found is None or found[0] is None:
        raise SystemExit("bench: no products table; apply the schema: `sluice migrate`")


def run_all(benchmarks: list[Benchmark], scale: float) -> tuple[list[Figure], list[Step]]:
    """Run each benchmark in turn; every row it declares ends up in the figures."""
    figures: list[Figure] = []
    steps: list[Step] = []
    for benchmark in benchmarks:
        argv = benchmark.argv(scale)
        print(f"\n== bench.{benchmark.name} {' '.join(argv)}", flush=True)
        began = time.monotonic()
        try:
            module = importlib.import_module(f"bench.{benchmark.name}")
        except Exception as exc:  # its rows are unknown: one row stands for them all
            log.exception("cannot import bench.%s", benchmark.name)
            whole = Expected(benchmark.name, f"bench.{benchmark.name}: all its figures", None, "")
            figures.append(whole.unmeasured(f"{type(exc).__name__}: {exc}"))
        else:
            figures += attempt(module.ROWS, lambda module=module, argv=argv: module.main(argv))
        steps.append(Step(benchmark.name, tuple(argv), time.monotonic() - began))
    return figures, steps


def ledger(settings) -> tuple[cpu_share.Ledger | None, str]:
    """The CPU counters now, or None and why they cannot be read (logged)."""
    stack_dir = settings.stack_dir
    if not stack_dir.is_absolute():
        stack_dir = settings.project_dir / stack_dir
    try:
        return cpu_share.Ledger.now(stack_dir), ""
    except RuntimeError as exc:
        log.warning("other processes' CPU share will be unknown: %s", exc)
        return None, str(exc)


def main(argv: list[str] | None = None) -> Path:
    """Run the benchmarks and write the results page; returns its path."""
    names = [benchmark.name for benchmark in BENCHMARKS]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1 = full size (default)")
    parser.add_argument("--only", nargs="+", choices=names, help="run only these")
    parser.add_argument("--out", type=Path, help="default: bench/RESULTS.md in the checkout")
    args = parser.parse_args(argv)
    if args.scale <= 0:
        parser.error("--scale must be above 0")
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")
    settings = load_settings()
    check_stack(settings)
    chosen = [b for b in BENCHMARKS if not args.only or b.name in args.only]
    began, before, code = datetime.now(UTC), Machine.now(), revision(settings.project_dir)
    first, unknown = ledger(settings)
    figures, steps = run_all(chosen, args.scale)
    last, unknown = ledger(settings) if first else (None, unknown)
    share = cpu_share.others_share(first, last, before.cores) if first and last else None
    run = Run(began, code, args.scale, before, Machine.now(), steps, share, unknown)
    out = args.out or settings.project_dir / "bench" / "RESULTS.md"
    out.write_text(render(run, figures))
    print(f"\nbench: wrote {out}", file=sys.stderr)
    return out
