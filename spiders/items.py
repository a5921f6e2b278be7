"""What a Sluice spider yields: one extracted record and where it came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass
class CrawledItem:
    """An item of one schema (``product/1``, ``quote/1``) found on one page.

    The pipelines validate ``item`` against the schema and wrap it in the Kafka envelope with
    the crawl id and the spider name.
    """

    schema: str
    source: str
    url: str
    item: dict[str, Any]
    fetched_at: datetime = field(default_factory=lambda: datetime.now(UTC))
