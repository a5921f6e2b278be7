"""One consumer of a pre-filled backlog in a process of its own, timed by its commits.

    python -m bench.timed_consumer KIND --topic T --group G --expect N [--tables P,H]

KIND is what consumes:
- ``normalizer`` / ``archiver``: the Sluice processor as `sluice process` builds it (with its
  metrics), until the group is caught up and idle;
- ``raw``: a plain confluent-kafka consumer that JSON-decodes every message and commits after
  each batch, until it has ``--expect`` messages or its group has committed the backlog;
- ``sql``: the raw SQL pipeline (:mod:`bench.sql_pipeline`) into the tables ``--tables``.
Every kind reads batches of 500 and commits synchronously after each. The process prints one
JSON line, its :class:`~bench.commit_clock.CommitClock`; :func:`run` starts such processes and
reads their clocks.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import subprocess
import sys
import time

from confluent_kafka import Consumer, KafkaException

from bench.backlog import row_of
from bench.commit_clock import CommitClock
from bench.sql_pipeline import Tables, write_batch
from sluice.kafka import lag
from sluice.settings import load_settings
from sluice.storage import postgres

log = logging.getLogger(__name__)

KINDS = ("normalizer", "archiver", "raw", "sql")
BATCH = 500
#: how long a processor waits, caught up, before it calls the backlog done
IDLE_SECONDS = 2.0


def run(
    settings,
    kind: str,
    topic: str,
    group: str,
    expect: int,
    processes: int = 1,
    tables: Tables | None = None,
    timeout: float = 600,
    env: dict[str, str] | None = None,
) -> list[CommitClock]:
    """Start ``processes`` consumers of ``kind`` in group ``group`` at once; their clocks.

    ``env`` adds to the consumers' environment (e.g. another archive database).

    Raises RuntimeError naming the log file when one fails or outlasts ``timeout`` seconds.
    """
    argv = [sys.executable, "-m", "bench.timed_consumer", kind, "--topic", topic,
            "--group", group, "--expect", str(expect)]  # fmt: skip
    if tables is not None:
        argv += ["--tables", f"{tables.products},{tables.prices}"]
    environment = {**os.environ, **(env or {})}
    log_dir = settings.stack_dir / "logs" / "bench"
    log_dir.mkdir(parents=True, exist_ok=True)
    started = []
    for n in range(processes):
        log_file = log_dir / f"{group}-{n}.log"
        with log_file.open("w") as err:
            proc = subprocess.Popen(
                argv, stdout=subprocess.PIPE, stderr=err, text=True, env=environment
            )
        started.append((proc, log_file))
    deadline = time.monotonic() + timeout
    clocks = []
    try:
        for proc, log_file in started:
            try:
                out, _ = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired as exc:
                raise RuntimeError(
                    f"{kind} consumer still running after {timeout:.0f} s; see {log_file}"
                ) from exc
            if proc.returncode != 0:
                raise RuntimeError(f"{kind} consumer exited {proc.returncode}; see {log_file}")
            clocks.append(CommitClock.from_json(json.loads(out.strip().splitlines()[-1])))
    finally:
        for proc, _ in started:
            if proc.poll() is None:
                proc.kill()
                proc.wait(30)
    return clocks


def _processor(settings, kind: str, topic: str, group: str) -> CommitClock:
    from prometheus_client import CollectorRegistry

    from processors.app import build
    from processors.metrics import ProcessorMetrics

    clock = CommitClock()
    runtime = build(
        settings,
        kind,
        topics=[topic],
        consumer_group_id=group,
        batch_size=BATCH,
        metrics=ProcessorMetrics(CollectorRegistry()).for_group(kind),
    )
    signal.signal(signal.SIGTERM, runtime.stop)
    runtime.run(until_idle=IDLE_SECONDS, on_batch=lambda stats: clock.committed(stats.consumed))
    return clock


def _plain(settings, topic: str, group: str, expect: int, tables: Tables | None) -> CommitClock:
    """The raw consumer, and with ``tables`` the raw SQL pipeline, until ``expect`` messages."""
    clock = CommitClock()
    consumer = Consumer(
        {**settings.kafka, "group.id": group, "auto.offset.reset": "earliest",
         "enable.auto.commit": False}
    )  # fmt: skip
    conn = postgres.connect(settings.postgres_url, autocommit=True) if tables else None
    consumer.subscribe([topic])
    # With several processes in the group none sees all ``expect``: each stops once the
    # group has committed the whole backlog.
    marks = lag.end_offsets(settings.kafka, [topic])
    consumed = 0
    try:
        while consumed < expect:
            messages = consumer.consume(num_messages=BATCH, timeout=1.0)
            if not messages:
                if lag.committed_behind(consumer, marks) == 0:
                    break
                continue
            decoded = []
            for message in messages:
                if message.error() is not None:
                    raise KafkaException(message.error())
                decoded.append(json.loads(message.value()))
            if conn is not None:
                write_batch(conn, tables, [row_of(envelope) for envelope in decoded])
            consumer.commit(asynchronous=False)
            consumed += len(decoded)
            clock.committed(consumed)
    finally:
        consumer.close()
        if conn is not None:
            conn.close()
    return clock


def main(argv: list[str] | None = None) -> CommitClock:
    """Consume the backlog as KIND; print and return the commit clock."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=KINDS)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("--expect", type=int, required=True)
    parser.add_argument("--tables", help="PRODUCTS,PRICES: the sql kind's scratch tables")
    args = parser.parse_args(argv)
    settings = load_settings()
    # As `sluice process` logs (a line per batch, to the log file), so the cost is the same.
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    if args.kind in ("normalizer", "archiver"):
        clock = _processor(settings, args.kind, args.topic, args.group)
    else:
        tables = None
        if args.kind == "sql":
            if not args.tables or "," not in args.tables:
                parser.error("the sql kind needs --tables PRODUCTS,PRICES")
            tables = Tables(*args.tables.split(",", 1))
        clock = _plain(settings, args.topic, args.group, args.expect, tables)
    print(json.dumps(clock.to_json()))
    return clock


if __name__ == "__main__":
    main()
