"""What a crawl run's Asset event tells the DAGs that follow it: the day partition it updated
and the crawl run that updated it (the crawl DAG writes both; ``data_quality`` reads them)."""

from __future__ import annotations

from typing import Any

#: the key of the crawl run's id in its Asset event's extra
CRAWL_ID = "crawl_id"


def record_crawl(event: Any, day: str, crawl_id: str) -> None:
    """Mark an outlet Asset event as crawl ``crawl_id``'s update of the partition ``day``."""
    event.add_partitions(day)
    event.extra[CRAWL_ID] = crawl_id


def crawls_named(events: Any) -> list[str]:
    """The crawl runs a DAG run's triggering Asset events name, the newest per asset (an older
    run of an asset's partition was superseded by the newer one), sorted."""
    named = []
    for asset in events:
        stamped = [e for e in events[asset] if (e.extra or {}).get(CRAWL_ID)]
        if stamped:
            named.append(max(stamped, key=lambda e: e.timestamp).extra[CRAWL_ID])
    return sorted(named)
