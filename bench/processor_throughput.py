"""Processor throughput beside raw baselines of the same data, in one run.

    python -m bench.processor_throughput [--rows 20000] [--docs 5000]

One scratch topic (6 partitions) holds ``--rows`` product envelopes. Over it, each in a process
of its own and each timed from its first commit to its last (:mod:`bench.commit_clock`):
- a raw confluent-kafka consumer that reads and JSON-decodes every message;
- the running normalizer (as `sluice process` builds it), until its offsets are committed;
- two normalizer processes sharing the backlog (the first run's rows removed before, so both
  runs find the same tables);
- the raw SQL pipeline of :mod:`bench.sql_pipeline` into copies of the product tables, as one
  process and as two sharing the backlog (the ceiling this machine sets for two normalizers);
and, in this process, a raw ``COPY`` of the same rows into a plain table. A second topic of
``--docs`` envelopes measures the archiver beside a raw ``insert_many`` of the same documents;
each writes into an empty scratch database whose ``raw_items`` has the archive's indexes.
Needs the stack (`sluice stack up`) and the schema (`sluice migrate`). Uses scratch topics,
sources, tables and collections, and removes them afterwards.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import time
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

from pymongo.database import Database

from bench import sql_pipeline, timed_consumer
from bench.backlog import ROW_COLUMNS, clean_up, envelopes, fill, forget_products, row_of
from bench.commit_clock import combined_rate
from bench.figures import Expected, Figure, Goal, Quantity, complete, print_figures
from bench.steps import Once, attempt
from processors.archiver import document_for
from processors.base import Origin
from sluice.db.mongo_indexes import RAW_ITEMS_INDEXES
from sluice.settings import load_settings
from sluice.storage import mongo, postgres

log = logging.getLogger(__name__)

MSGS = "msgs/s"

RAW_CONSUMER = Expected(
    "normalizer_vs_raw_consumer",
    "normalizer ÷ raw consumer (read + JSON decode)",
    Goal(">=", 0.15),
    "normalizer, until committed",
    "raw confluent-kafka consumer",
)
RAW_COPY = Expected(
    "normalizer_vs_copy",
    "normalizer ÷ raw COPY of the same rows",
    Goal(">=", 0.07),
    "normalizer, until committed",
    "COPY into a plain table",
)
SQL_PIPELINE = Expected(
    "normalizer_vs_sql_pipeline",
    "normalizer ÷ raw SQL pipeline (COPY to staging, INSERT … ON CONFLICT, history)",
    Goal(">=", 0.8),
    "normalizer, until committed",
    "consume, decode, COPY, upsert, history insert",
)
TWO_PROCESSES = Expected(
    "normalizer_two_vs_one",
    "two normalizer processes ÷ one (same backlog, 6 partitions)",
    Goal(">=", 1.6),
    "2 normalizer processes",
    "1 normalizer process",
)
TWO_SQL_PIPELINES = Expected(
    "sql_pipeline_two_vs_one",
    "two raw SQL pipelines ÷ one (what this machine allows the row above)",
    None,
    "2 raw SQL pipeline processes",
    "1 raw SQL pipeline process",
)
ARCHIVER = Expected(
    "archiver_vs_insert_many",
    "archiver ÷ raw insert_many",
    Goal(">=", 0.8),
    "archiver, until committed",
    "insert_many, batches of 500",
)
ROWS = (RAW_CONSUMER, RAW_COPY, SQL_PIPELINE, TWO_PROCESSES, TWO_SQL_PIPELINES, ARCHIVER)


def consumer_rate(settings, kind: str, topic: str, expect: int, processes: int = 1, **kw) -> float:
    """Messages/s of ``processes`` consumers of ``kind`` over ``topic`` (a fresh group)."""
    group = f"bench-{kind}-{uuid.uuid4().hex[:8]}"
    clocks = timed_consumer.run(settings, kind, topic, group, expect, processes, **kw)
    committed = sum(clock.consumed for clock in clocks)
    if committed < expect:
        raise RuntimeError(f"{kind} committed {committed} of {expect} messages")
    return combined_rate(clocks)


def raw_copy_rate(settings, rows: list[tuple]) -> float:
    """Rows/s of one COPY of ``rows`` into a plain table of the products' columns."""
    table = f"bench_copy_{uuid.uuid4().hex[:8]}"
    with postgres.connect(settings.postgres_url, autocommit=True) as conn:
        conn.execute(
            f"CREATE TABLE {table} (source text, external_id text, name text, brand text, "
            "category text, price numeric(18,4), currency char(3), availability text, "
            "rating numeric(3,2), review_count int, image_url text, url text, "
            "fetched_at timestamptz, crawl_id text)"
        )
        try:
            began = time.monotonic()
            with (
                conn.transaction(),
                conn.cursor() as cur,
                cur.copy(f"COPY {table} ({ROW_COLUMNS}) FROM STDIN") as cp,
            ):
                for row in rows:
                    cp.write_row(row)
            return len(rows) / (time.monotonic() - began)
        finally:
            conn.execute(f"DROP TABLE {table}")


def sql_pipeline_rate(settings, topic: str, expect: int, processes: int = 1) -> float:
    """Messages/s of ``processes`` raw SQL pipelines over ``topic`` (a fresh group), into
    fresh copies of the tables they share."""
    tables = sql_pipeline.Tables.fresh()
    with postgres.connect(settings.postgres_url, autocommit=True) as conn:
        sql_pipeline.create(conn, tables)
    try:
        return consumer_rate(settings, "sql", topic, expect, processes, tables=tables)
    finally:
        with postgres.connect(settings.postgres_url, autocommit=True) as conn:
            sql_pipeline.drop(conn, tables)


@contextlib.contextmanager
def scratch_archive(settings) -> Iterator[Database]:
    """A fresh MongoDB database whose ``raw_items`` has the archive's indexes.

    The archiver and its baseline each write into one, so both insert into an empty
    collection with the same indexes (the live archive's size would tax only the archiver).
    """
    client = mongo.client(settings.mongo_url, timeout=120)
    database = client[f"sluice_bench_{uuid.uuid4().hex[:8]}"]
    try:
        for spec in RAW_ITEMS_INDEXES:
            database["raw_items"].create_index(list(spec.keys), name=spec.name)
        yield database
    finally:
        client.drop_database(database.name)
        client.close()


def archiver_rate(settings, topic: str, expect: int) -> float:
    """Docs/s of the archiver over ``topic``, archiving into a scratch database."""
    with scratch_archive(settings) as database:
        url = urlunsplit(urlsplit(settings.mongo_url)._replace(path=f"/{database.name}"))
        return consumer_rate(settings, "archiver", topic, expect, env={"SLUICE_MONGO_URL": url})


def insert_many_rate(settings, messages: list[tuple[bytes, bytes]]) -> float:
    """Documents/s of ``insert_many`` (batches of 500, unordered, as the archiver writes) of
    the archived form of ``messages`` into a scratch collection with the archive's indexes."""
    docs = [document_for(v, Origin("bench", 0, n, k)) for n, (k, v) in enumerate(messages)]
    with scratch_archive(settings) as database:
        scratch = database["raw_items"]
        began = time.monotonic()
        for start in range(0, len(docs), 500):
            scratch.insert_many(docs[start : start + 500], ordered=False)
        return len(docs) / (time.monotonic() - began)


def measure(settings, rows: int, docs: int) -> list[Figure]:
    """Every row of :data:`ROWS`, each measured or marked unmeasured with the reason.

    Runs in the order that keeps the runs fair (the normalizer's runs on the same tables);
    returns the rows in :data:`ROWS` order."""
    source = f"bench-{uuid.uuid4().hex[:8]}.localhost"
    docs_source = f"docs-{source}"
    topic, docs_topic = (f"bench.raw.{uuid.uuid4().hex[:8]}" for _ in range(2))
    messages = envelopes(source, rows)
    docs_messages = envelopes(docs_source, docs)

    def filled(name: str, backlog: list) -> Once[str]:
        return Once(f"filling {name}", lambda: fill(settings, name, backlog) or name)

    backlog, docs_backlog = filled(topic, messages), filled(docs_topic, docs_messages)

    def one_process() -> float:
        rate = consumer_rate(settings, "normalizer", backlog(), rows)
        forget_products(settings, source)  # the two-process run finds the same tables
        return rate

    normalizer = Once("the normalizer (one process)", one_process)
    one_pipeline = Once(
        "the raw SQL pipeline (one process)", lambda: sql_pipeline_rate(settings, backlog(), rows)
    )

    note = f"{rows:,} messages"

    def q(value: float) -> Quantity:
        return Quantity(value, MSGS)

    try:
        figures = [
            *attempt(
                [RAW_CONSUMER],
                lambda: [
                    RAW_CONSUMER.measured(
                        q(normalizer()),
                        q(consumer_rate(settings, "raw", backlog(), rows)),
                        note=note,
                    )
                ],
            ),
            *attempt(
                [TWO_PROCESSES],
                lambda: [
                    TWO_PROCESSES.measured(
                        q(consumer_rate(settings, "normalizer", backlog(), rows, processes=2)),
                        q(normalizer()),
                        note=note,
                    )
                ],
            ),
            *attempt(
                [SQL_PIPELINE],
                lambda: [SQL_PIPELINE.measured(q(normalizer()), q(one_pipeline()), note=note)],
            ),
            *attempt(
                [TWO_SQL_PIPELINES],
                lambda: [
                    TWO_SQL_PIPELINES.measured(
                        q(sql_pipeline_rate(settings, backlog(), rows, processes=2)),
                        q(one_pipeline()),
                        note=note,
                    )
                ],
            ),
            *attempt(
                [RAW_COPY],
                lambda: [
                    RAW_COPY.measured(
                        q(normalizer()),
                        q(raw_copy_rate(settings, [row_of(json.loads(v)) for _, v in messages])),
                        note=note,
                    )
                ],
            ),
            *attempt(
                [ARCHIVER],
                lambda: [
                    ARCHIVER.measured(
                        Quantity(archiver_rate(settings, docs_backlog(), docs), "docs/s"),
                        Quantity(insert_many_rate(settings, docs_messages), "docs/s"),
                        note=f"{docs:,} documents",
                    )
                ],
            ),
        ]
    finally:
        clean_up(settings, [topic, docs_topic], [source, docs_source])
    return complete(ROWS, figures, "the benchmark returned no figure for it")


def main(argv: list[str] | None = None) -> list[Figure]:
    """Measure, print and return the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000, help="messages in the backlog")
    parser.add_argument("--docs", type=int, default=5_000, help="messages for the archiver")
    args = parser.parse_args(argv)
    figures = measure(load_settings(), args.rows, args.docs)
    print_figures(figures)
    return figures


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    main()
