"""How a worker's Scrapy stats become Prometheus counter increments."""

from __future__ import annotations

from spiders.metrics import increments


def test_statuses_exceptions_items_and_deliveries_map_to_their_series():
    deltas = {
        "downloader/response_status_count/200": 40,
        "downloader/response_status_count/404": 2,
        "downloader/exception_type_count/twisted.internet.error.TimeoutError": 3,
        "item_scraped_count": 35,
        "drop_item/ecommerce/no_price": 4,
        "drop_item/ecommerce/unknown_schema": 1,
        "kafka/delivery_failed": 2,
        "kafka/produced": 35,  # not a metric of its own: scraped items already count it
        "log_count/INFO": 99,
    }
    assert sorted(increments("ecommerce", deltas)) == sorted(
        [
            ("requests", ("ecommerce", "200"), 40),
            ("requests", ("ecommerce", "404"), 2),
            ("requests", ("ecommerce", "TimeoutError"), 3),
            ("scraped", ("ecommerce",), 35),
            ("dropped", ("ecommerce", "no_price"), 4),
            ("dropped", ("ecommerce", "unknown_schema"), 1),
            ("delivery_failures", ("ecommerce",), 2),
        ]
    )


def test_nothing_gained_nothing_added():
    assert increments("finance", {}) == []
