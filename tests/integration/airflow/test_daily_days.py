"""The daily DAGs work on the previous complete UTC day, as the scheduler runs them: the run at
01:30 (export_daily) or 03:00 (reprocess_raw) on day D takes all of D-1, 23:59 included, and
nothing of D."""

from __future__ import annotations

import csv
import gzip
import io
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from processors.archiver import COLLECTION, document_for
from processors.base import Origin
from sluice.storage import mongo
from sluice.storage.objects import ObjectStore
from sluice.storage.postgres import connect
from tests.support.airflow import run_dag
from tests.support.processing import product

pytestmark = [pytest.mark.postgres, pytest.mark.mongo]

D = datetime(2026, 3, 15, tzinfo=UTC)
#: moments around the previous day, D-1, and whether D-1 holds them
EDGES = {
    "before": (D - timedelta(days=1, seconds=1), False),
    "first": (D - timedelta(days=1), True),
    "last": (D - timedelta(seconds=1), True),
    "next": (D, False),
    "before-run": (D + timedelta(hours=1), False),
}
IN_PREVIOUS_DAY = sorted(name for name, (_, inside) in EDGES.items() if inside)


def test_export_daily_at_0130_exports_the_whole_previous_day(platform, airflow_env, settings):
    tag = f"test-{uuid.uuid4().hex[:8]}"
    with connect(settings.postgres_writer_url, autocommit=True) as conn:
        for name, (started, _) in EDGES.items():
            conn.execute(
                "INSERT INTO crawl_runs (crawl_id, spider, status, started_at) "
                "VALUES (%s, 'ecommerce', 'finished', %s)",
                (f"{tag}-{name}", started),
            )
    run = run_dag(settings, "export_daily", D.replace(hour=1, minute=30))
    previous = (D - timedelta(days=1)).date().isoformat()
    exported = ObjectStore(settings).read(settings.export_bucket, f"{previous}/crawl_runs.csv.gz")
    rows = csv.DictReader(io.StringIO(gzip.decompress(exported).decode()))
    ours = sorted(
        r["crawl_id"].removeprefix(f"{tag}-") for r in rows if r["crawl_id"].startswith(f"{tag}-")
    )
    assert (run.state, ours) == ("success", IN_PREVIOUS_DAY)


def test_reprocess_raw_at_0300_replays_the_whole_previous_day(platform, airflow_env, settings):
    source = f"test-{uuid.uuid4().hex[:8]}.localhost"
    docs = []
    for offset, (name, (fetched, _)) in enumerate(EDGES.items()):
        envelope = json.loads(product(source, name, "9.99", 0, f"{source}-crawl")[1])
        envelope["fetched_at"] = fetched.isoformat()
        value = json.dumps(envelope).encode()
        docs.append(document_for(value, Origin("sluice.raw.products", 0, offset, None)))
    with mongo.client(settings.mongo_url) as archive:
        archive.get_default_database()[COLLECTION].insert_many(docs)
    run = run_dag(settings, "reprocess_raw", D.replace(hour=3), source=source)
    with connect(settings.postgres_reader_url) as conn:
        stored = conn.execute(
            "SELECT external_id FROM products WHERE source = %s ORDER BY external_id", (source,)
        ).fetchall()
    assert (run.state, [sku for (sku,) in stored]) == ("success", IN_PREVIOUS_DAY)
