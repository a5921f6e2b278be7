"""The finance spider: one day's quotes from the market, HTML table and JSON API."""

from __future__ import annotations

import json
from datetime import date

import pytest

from sluice.schemas.envelope import EnvelopeSchema
from tests.support.crawling import TopicReader

pytestmark = [pytest.mark.redis, pytest.mark.kafka]


@pytest.mark.parametrize("path", ["/market/quotes", "/market/api/quotes"])
def test_a_finance_crawl_publishes_the_days_quotes(stack, settings, demo, market, sluice_cli, path):
    day = "2026-11-17"
    reader = TopicReader(settings)
    result = sluice_cli(
        "crawl",
        "finance",
        "--start-url",
        f"{demo.base}{path}",
        "--date",
        day,
        "--json",
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout)
    messages = reader.read("sluice.raw.quotes", report["crawl_id"])
    reader.close()

    expected = {q["symbol"]: q for q in market.quotes_on(date.fromisoformat(day))}
    assert len(expected) >= 45
    assert sorted(key for key, _ in messages) == sorted(expected)
    schema = EnvelopeSchema()
    for key, envelope in messages:
        assert schema.validate(envelope) == {}
        assert envelope["source"] == "market.localhost"
        item, want = envelope["item"], expected[key]
        for field in ("symbol", "name", "exchange", "price", "currency", "change", "change_pct"):
            assert item[field] == want[field], field
        assert item["volume"] == want["volume"]
        assert item["trade_date"] == day
        assert item["as_of"].startswith(f"{day}T21:00:00")
    assert report["published"] == len(expected)
