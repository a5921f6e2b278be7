"""Reading a site's rules: robots.txt Crawl-delay and sitemaps, Retry-After (pure logic)."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from sluice.crawl.politeness import interval_ms, retry_after_seconds, robots_rules

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    ("text", "delay", "problem"),
    [
        ("User-agent: *\nCrawl-delay: 0.25\n", 0.25, None),
        ("User-agent: *\nDisallow: /x\n", None, None),
        ("User-agent: *\nCrawl-delay: abc\n", None, "Crawl-delay 'abc' is not a number"),
        ("User-agent: *\nCrawl-delay: -1\n", None, "Crawl-delay '-1' is not a number"),
        ("<html><body>Not found</body></html>", None, "robots.txt is an HTML page"),
    ],
)
def test_crawl_delay_is_read_or_refused_with_a_reason(text, delay, problem):
    found, _, why = robots_rules(text, "SluiceBot")
    assert (found, (why or "")[: len(problem or "")] or None) == (delay, problem)


def test_sitemaps_named_in_robots_txt_are_listed():
    text = "Sitemap: https://shop.test/a.xml\nUser-agent: *\nSitemap: https://shop.test/b.xml.gz\n"
    assert robots_rules(text, "SluiceBot")[1] == [
        "https://shop.test/a.xml",
        "https://shop.test/b.xml.gz",
    ]


@pytest.mark.parametrize(
    ("header", "seconds", "refused"),
    [
        ("2", 2.0, False),
        (format_datetime(datetime(2026, 12, 6, 12, 0, 30, tzinfo=UTC), usegmt=True), 30.0, False),
        (format_datetime(datetime(2026, 12, 6, 11, 0, tzinfo=UTC), usegmt=True), None, True),
        ("-5", None, True),
        ("soon", None, True),
        (None, None, False),
    ],
)
def test_retry_after_in_seconds_or_as_a_date(header, seconds, refused):
    found, problem = retry_after_seconds(header, NOW)
    assert (found, problem is not None) == (seconds, refused)


def test_a_rate_is_an_interval_and_zero_means_no_ceiling():
    assert (interval_ms(4.0), interval_ms(0.5), interval_ms(0)) == (250, 2000, 0)
