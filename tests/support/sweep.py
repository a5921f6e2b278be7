"""Sweeping away what a test session left on the checkout's stack.

Tests write under names of their own (sources such as ``test-1a2b3c4d.localhost``, crawls with
fresh crawl ids), so they never collide; without a sweep those rows, archived documents and
crawl keys would pile up run after run, and every later test that reads a whole store
(backups, exports, the archive) would get slower. The ``stack`` fixture opens a
:class:`SessionSweep` when the session starts and finishes it when the session ends, so run
N+1 starts from what run 1 started from.

What the sweep removes:

- every document the archive received since the session began (crawls run on a Redis
  database of their own, or whose keys a test already dropped, leave no record to find them
  by, but every one of them was archived during the session);
- every crawl the session started (its Redis record created after the session began): its
  Redis keys, its ``crawl_runs`` row, its rejected items and data-quality results;
- every row and document of a scratch source (a name starting with one of
  ``SCRATCH_PREFIXES``), whichever session wrote it, so a run that was killed before its
  sweep is cleaned by the next one.

Products of the demo sites stay: crawls upsert them under the same keys, so they do not grow.
The suite owns the checkout's stack while it runs: what a user crawls by hand during a test run
is swept with the session's.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

from sluice.crawl import registry, retention
from sluice.crawl.keys import CrawlKeys
from sluice.crawl.leases import LeasedQueue
from sluice.settings import Settings
from sluice.storage import mongo, postgres
from sluice.storage import redis as redis_storage

# The prefixes of every source name tests make up. Demo sources are never scratch.
SCRATCH_PREFIXES = ("test-", "api-", "formula-")

# Statements that remove what belongs to swept crawls (%(crawls)s) or scratch sources (LIKE
# %(patterns)s). Product history goes with its product (ON DELETE CASCADE).
_DELETES = (
    "DELETE FROM products WHERE source LIKE ANY(%(patterns)s)",
    "DELETE FROM quotes WHERE source LIKE ANY(%(patterns)s) OR crawl_id = ANY(%(crawls)s)",
    "DELETE FROM crawl_runs WHERE crawl_id = ANY(%(crawls)s) OR crawl_id LIKE ANY(%(patterns)s)",
    "DELETE FROM rejected_items WHERE crawl_id = ANY(%(crawls)s)"
    " OR crawl_id LIKE ANY(%(patterns)s)",
    "DELETE FROM dq_results WHERE run_id = ANY(%(crawls)s)",
)


@dataclass
class SweepResult:
    """What one sweep removed, for the session's closing line."""

    crawls: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    documents: int = 0

    def describe(self) -> str:
        """One line: crawls, rows per table, archived documents."""
        rows = ", ".join(f"{n} {table}" for table, n in self.rows.items() if n) or "no rows"
        return f"swept {self.crawls} crawls, {rows}, {self.documents} raw_items"


class SessionSweep:
    """Removes what the test session that opened it created (see the module's docstring)."""

    def __init__(
        self,
        settings: Settings,
        started_at: float | None = None,
        scratch_prefixes: tuple[str, ...] = SCRATCH_PREFIXES,
    ) -> None:
        self.settings = settings
        self.scratch_prefixes = scratch_prefixes
        # Whole seconds, as the crawl record stores them; one second early so a crawl created
        # in the session's first second counts.
        self.started_at = int(started_at if started_at is not None else time.time()) - 1

    def session_crawls(self) -> list[str]:
        """The crawl ids whose Redis record was created since the session began."""
        server = redis_storage.client(self.settings.redis_url)
        crawls = []
        for crawl_id in retention.crawl_ids(server):
            created = server.hget(CrawlKeys(crawl_id).meta, "created_at")
            if created is not None and int(created) >= self.started_at:
                crawls.append(crawl_id)
        return crawls

    def finish(self) -> SweepResult:
        """Remove the session's crawls and every scratch source; what was removed."""
        crawls = self.session_crawls()
        result = SweepResult(crawls=len(crawls))
        result.documents = self._archive(crawls)
        result.rows = self._tables(crawls)
        self._crawl_keys(crawls)
        return result

    def _archive(self, crawls: list[str]) -> int:
        database = urlsplit(self.settings.mongo_url).path.lstrip("/") or "sluice"
        # The archive answers a filter by scanning it, so one delete with both conditions.
        client = mongo.client(self.settings.mongo_url, timeout=300)
        try:
            deleted = client[database]["raw_items"].delete_many(
                {
                    "$or": [
                        {"received_at": {"$gte": datetime.fromtimestamp(self.started_at, UTC)}},
                        {"crawl_id": {"$in": crawls}},
                        {"source": {"$regex": self._scratch_regex()}},
                    ]
                }
            )
            return deleted.deleted_count
        finally:
            client.close()

    def _tables(self, crawls: list[str]) -> dict[str, int]:
        patterns = [_like_escape(prefix) + "%" for prefix in self.scratch_prefixes]
        params = {"crawls": crawls, "patterns": patterns}
        removed = {}
        with postgres.connect(self.settings.postgres_url, autocommit=True) as conn:
            # A session that never ran `sluice migrate` on a fresh stack has no tables.
            if conn.execute("SELECT to_regclass('crawl_runs')").fetchone()[0] is None:
                return removed
            for statement in _DELETES:
                table = statement.split()[2]
                removed[table] = conn.execute(statement, params).rowcount
        return removed

    def _scratch_regex(self) -> str:
        return "^(" + "|".join(re.escape(prefix) for prefix in self.scratch_prefixes) + ")"

    def _crawl_keys(self, crawls: list[str]) -> None:
        server = redis_storage.client(self.settings.redis_url)
        dispatched = set(registry.dispatched(server))
        for crawl_id in crawls:
            # A crawl still with the pool keeps its keys: they retire when it ends.
            if crawl_id not in dispatched:
                keys = LeasedQueue(server, CrawlKeys(crawl_id)).every_key()
                if keys:
                    server.delete(*keys)


def _like_escape(text: str) -> str:
    """``text`` matched literally by LIKE (its wildcards and the escape character escaped)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
