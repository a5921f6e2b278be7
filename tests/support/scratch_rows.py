"""A spider and a source of one test's own, with the crawl runs and products it records for
them, for tests of DAGs that judge what the database holds (scoped to those names)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest

from sluice.storage.postgres import connect

INSERT_RUN = """
INSERT INTO crawl_runs (crawl_id, spider, status, started_at, finished_at, items_stored)
VALUES (%s, %s, 'finished', %s, %s, %s)
"""
INSERT_PRODUCT = """
INSERT INTO products (source, external_id, name, brand, category, price, currency,
    availability, url, first_seen_at, last_seen_at, last_crawl_id, updated_at)
VALUES (%(source)s, %(sku)s, %(name)s, 'Acme', 'tools', %(price)s, %(currency)s, 'in_stock',
    %(url)s, %(at)s, %(at)s, %(crawl_id)s, %(at)s)
"""


@dataclass
class Scratch:
    """A spider and a source of one test's own, and the crawl runs it recorded for them."""

    spider: str
    source: str
    now: datetime
    crawls: list[str] = field(default_factory=list)

    def finished_run(self, conn, ended_hours_ago: float, items: int) -> str:
        """Record a finished crawl run of the spider that ended ``ended_hours_ago``."""
        crawl_id = f"{self.spider}-{len(self.crawls) + 1}"
        ended = self.now - timedelta(hours=ended_hours_ago)
        conn.execute(
            INSERT_RUN, (crawl_id, self.spider, ended - timedelta(minutes=30), ended, items)
        )
        self.crawls.append(crawl_id)
        return crawl_id

    def products(self, conn, crawl_id: str, n: int, **row0) -> None:
        """Store ``n`` good products of the source from ``crawl_id``; ``row0`` changes the first."""
        for i in range(n):
            row = {
                "source": self.source,
                "sku": f"SKU-{i}",
                "name": f"Product {i}",
                "price": f"{i + 1}.50",
                "currency": "EUR",
                "url": f"http://{self.source}/p/{i}",
                "at": self.now - timedelta(minutes=5),
                "crawl_id": crawl_id,
            }
            conn.execute(INSERT_PRODUCT, row | (row0 if i == 0 else {}))


@pytest.fixture
def scratch(settings, migrated) -> Iterator[Scratch]:
    """A spider and a source no other test uses; their rows are deleted afterwards.

    data_quality and pipeline_health runs are scoped to these names (their ``sources`` and
    ``spiders`` params, :func:`scoped`), so what other tests left in the shared database does
    not change their outcome.
    """
    tag = uuid.uuid4().hex[:8]
    with connect(settings.postgres_writer_url, autocommit=True) as conn:
        now = conn.execute("SELECT now()").fetchone()[0]
        made = Scratch(f"test-{tag}", f"test-{tag}.localhost", now)
        try:
            yield made
        finally:
            conn.execute("DELETE FROM products WHERE source = %s", (made.source,))
            conn.execute("DELETE FROM crawl_runs WHERE spider = %s", (made.spider,))
            conn.execute("DELETE FROM dq_results WHERE scope LIKE %s", (f"%{made.spider}%",))


def scoped(scratch: Scratch) -> dict[str, list[str]]:
    """The run conf that narrows a check DAG to the scratch spider and source."""
    return {"sources": [scratch.source], "spiders": [scratch.spider]}
