"""Sources the tests register for the crawl DAGs, and remove again."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from psycopg import sql

from sluice import sources
from sluice.db.migrations import migrate
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


@contextmanager
def scratch_registry(settings) -> Iterator[str]:
    """A schema of its own (``test_<random>``) with the project's migrations applied, so its
    ``sources`` table is empty whatever the real one holds; dropped when the block ends."""
    name = f"test_{uuid.uuid4().hex[:10]}"
    with connect(settings.postgres_url, autocommit=True) as owner:
        owner.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name)))
    try:
        migrate(settings, schema=name)
        yield name
    finally:
        with connect(settings.postgres_url, autocommit=True) as owner:
            owner.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(name)))


def strangers(settings, wanted: Sequence[sources.Source]) -> list[sources.Source]:
    """Enabled sources of ``wanted``'s spiders that start elsewhere: a run of one of those
    spiders without start URLs would crawl them too."""
    urls = {source.spider: set(source.start_urls) for source in wanted}
    with connect(settings.postgres_reader_url) as conn:
        found = sources.list_sources(conn)
    return [
        s
        for s in found
        if s.enabled and s.spider in urls and not set(s.start_urls) <= urls[s.spider]
    ]
