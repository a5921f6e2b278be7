"""What the processors' Prometheus metrics cost: the normalizer with and without them.

    .venv/bin/python -m bench.metrics_overhead [--rows 20000] [--rounds 2]

Each round fills two scratch topics with the same number of fresh products (a new source each,
so both runs insert rather than find rows unchanged), then runs the normalizer over one with
metrics (counters, the batch histogram and librdkafka statistics every 10 s) and over the
other without, alternating which goes first. The baseline is the run without metrics.
Needs the stack (`sluice stack up`) and the schema (`sluice migrate`).
"""

from __future__ import annotations

import argparse
import logging
import time
import uuid

from prometheus_client import CollectorRegistry

from bench.backlog import clean_up, envelopes, fill
from bench.figures import Expected, Figure, Quantity, print_figures
from processors.app import build
from processors.metrics import ProcessorMetrics
from sluice.settings import load_settings

ROW = Expected(
    "metrics_overhead",
    "normalizer with its Prometheus metrics ÷ without",
    None,
    "normalizer with metrics",
    "normalizer without metrics",
)
ROWS = (ROW,)


def rows_per_second(settings, topic: str, with_metrics: bool) -> float:
    """Normalizer rows/s over ``topic`` until it is idle."""
    options = {}
    if with_metrics:
        options["metrics"] = ProcessorMetrics(CollectorRegistry()).for_group("normalizer")
    runtime = build(
        settings,
        "normalizer",
        topics=[topic],
        consumer_group_id=f"bench-{uuid.uuid4().hex}",
        **options,
    )
    began = time.monotonic()
    finished = [began]
    stats = runtime.run(until_idle=3, on_batch=lambda _: finished.__setitem__(0, time.monotonic()))
    return stats.consumed / (finished[0] - began)


def main(argv: list[str] | None = None) -> list[Figure]:
    """Alternate runs with and without metrics; print each, and return the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    settings = load_settings()
    results: dict[bool, list[float]] = {True: [], False: []}
    topics, sources = [], []
    try:
        for round_number in range(args.rounds):
            order = (True, False) if round_number % 2 == 0 else (False, True)
            for with_metrics in order:
                source = f"bench-{uuid.uuid4().hex[:8]}.localhost"
                topic = f"bench.raw.{uuid.uuid4().hex[:8]}"
                topics.append(topic)
                sources.append(source)
                fill(settings, topic, envelopes(source, args.rows))
                rate = rows_per_second(settings, topic, with_metrics)
                results[with_metrics].append(rate)
                label = "with metrics" if with_metrics else "without (baseline)"
                print(f"round {round_number + 1}: normalizer {label}: {rate:,.0f} rows/s")
    finally:
        clean_up(settings, topics, sources)
    base = sorted(results[False])[len(results[False]) // 2]
    with_metrics = sorted(results[True])[len(results[True]) // 2]
    note = f"medians of {args.rounds} round(s) of {args.rows:,} messages, start to last commit"
    figures = [ROW.measured(Quantity(with_metrics, "rows/s"), Quantity(base, "rows/s"), note)]
    print_figures(figures)
    return figures


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    main()
