"""A page that finally fails makes the crawl partial, not done: its own exit status, the failed
URLs by reason, `partial` in crawl_runs, and `sluice crawl retry` crawls just those pages."""

from __future__ import annotations

import json

import pytest

from sluice.crawl.runner import PARTIAL_EXIT
from sluice.storage.postgres import connect
from tests.support.polite_site import PoliteSite, SiteRules

pytestmark = [pytest.mark.redis, pytest.mark.kafka, pytest.mark.postgres]


@pytest.fixture
def broken_site():
    site = PoliteSite(rules=SiteRules(crawl_delay="0", allowed_rate=0, failing={"/p/3"})).start()
    yield site
    site.stop()


def run_status(settings, crawl_id: str) -> str:
    with connect(settings.postgres_reader_url) as conn:
        return conn.execute(
            "SELECT status FROM crawl_runs WHERE crawl_id = %s", (crawl_id,)
        ).fetchone()[0]


def test_a_failed_page_makes_the_crawl_partial_and_retry_fetches_just_it(
    sluice_cli, settings, migrated, broken_site
):
    first = sluice_cli("crawl", "ecommerce", "--start-url", f"{broken_site.base}/", "--json")
    report = json.loads(first.stdout)
    outcome = (first.returncode, report["status"], report["failed_pages"])
    status_after_first = run_status(settings, report["crawl_id"])
    broken_site.rules.failing.clear()
    hits_before = len(broken_site.hits)
    again = sluice_cli("crawl", "retry", report["crawl_id"], "--json")
    retried = json.loads(again.stdout)
    fetched_again = sorted({h.path for h in broken_site.hits[hits_before:]} - {"/robots.txt"})
    assert (
        outcome,
        status_after_first,
        (again.returncode, retried["status"], fetched_again),
        run_status(settings, report["crawl_id"]),
    ) == (
        (PARTIAL_EXIT, "partial", {"http_500": [f"{broken_site.base}/p/3"]}),
        "partial",
        (0, "done", ["/p/3"]),
        "finished",
    )
