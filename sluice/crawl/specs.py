"""The crawls Sluice schedules: one entry per spider, from which `crawl_<spider>` DAGs are made.

Adding a spider means adding its entry here; a unit test fails while a Scrapy spider has none.
Nothing here does I/O, so DAG files can import it at parse time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class CrawlSpec:
    """How one spider is crawled on a schedule."""

    spider: str
    description: str
    #: the spider's page on the demo sites (under SLUICE_DEMO_SITE_URL): where the demo's
    #: source for it starts (``sluice.sources.demo_sources``)
    demo_path: str
    schedule: str | None
    #: the run for day D crawls D's data (and so can be backfilled)
    dated: bool = False
    #: runs are day partitions (keys ``YYYY-MM-DD``) of the schedule, which must then fire on
    #: the day it crawls: a backfill makes one run per scheduled day, and the run's Asset is
    #: updated for that day's partition (only for ``dated`` specs)
    partitioned: bool = False
    #: the name of the Asset a good run updates (default ``crawl_<spider>``)
    asset: str = ""
    workers: int = 1
    max_pages: int = 0
    #: distinct requests a run is expected to make: sizes its duplicate filter (a run's
    #: ``expected_pages`` param overrides it)
    expected_pages: int = 100_000
    #: a run not finished this long after it was queued missed its deadline: Airflow's
    #: ``DeadlineAlert`` records it in ``deadline_misses`` and an alert rule pages on it
    deadline: timedelta = timedelta(hours=6)

    @property
    def dag_id(self) -> str:
        """The Airflow DAG id."""
        return f"crawl_{self.spider}"

    @property
    def asset_name(self) -> str:
        """The name of the Asset a successful run updates."""
        return self.asset or f"crawl_{self.spider}"

    @property
    def export_dag_id(self) -> str:
        """The DAG that exports each day partition of a partitioned spec's Asset."""
        return f"export_{self.asset_name}"

    @property
    def asset_uri(self) -> str:
        """The Asset a successful run updates, one day partition per run: a spec with its own
        ``asset`` names its data (e.g. ``sluice://quotes``), the others their crawls."""
        if self.asset:
            return f"sluice://{self.asset}"
        return f"sluice://crawls/{self.spider}"


CRAWLS: tuple[CrawlSpec, ...] = (
    CrawlSpec(
        spider="ecommerce",
        description="Products, prices and availability from schema.org shops.",
        demo_path="/shop/",
        schedule="0 6 * * *",
        workers=2,
    ),
    CrawlSpec(
        spider="finance",
        description="One trading day's quotes: the run for date D crawls D's quotes.",
        demo_path="/market/quotes",
        # After the close, on trading days: the run for day D fires at D 22:00 UTC and crawls
        # D's quotes into the partition D of the asset `quotes`.
        schedule="0 22 * * 1-5",
        dated=True,
        partitioned=True,
        asset="quotes",
        expected_pages=10_000,
        # The day's quotes are wanted before the next session opens.
        deadline=timedelta(hours=2),
    ),
)


def crawl_spec(spider: str) -> CrawlSpec:
    """The entry for ``spider``; KeyError names the known ones."""
    for spec in CRAWLS:
        if spec.spider == spider:
            return spec
    raise KeyError(f"no crawl spec for spider {spider!r}; known: {[s.spider for s in CRAWLS]}")
