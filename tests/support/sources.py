"""Sources the tests register for the crawl DAGs, and remove again."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from sluice import sources
from sluice.storage.postgres import connect


def unique_name(spider: str) -> str:
    """A source name no other test uses: ``test-<spider>-<random>``."""
    return f"test-{spider}-{uuid.uuid4().hex[:10]}"


def remove(settings, *names: str) -> None:
    """Delete the sources ``names`` (the registry itself never deletes; tests clean up)."""
    with connect(settings.postgres_writer_url, autocommit=True) as conn:
        conn.execute("DELETE FROM sources WHERE name = ANY(%s)", (list(names),))


@contextmanager
def registered(settings, spider: str, start_urls: Sequence[str]) -> Iterator[sources.Source]:
    """An enabled source of ``spider`` with a name of its own, deleted when the block ends."""
    source = sources.make_source(unique_name(spider), spider, start_urls)
    with connect(settings.postgres_writer_url, autocommit=True) as conn:
        added = sources.add(conn, source)
    try:
        yield added
    finally:
        remove(settings, source.name)
