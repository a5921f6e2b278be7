"""Sweeping away what a test session left on the checkout's stack.

Tests write under names of their own (sources such as ``test-1a2b3c4d.localhost``, crawls with
fresh crawl ids), so they never collide; without a sweep those rows, archived documents and
crawl keys would pile up run after run, and every later test that reads a whole store
(backups, exports, the archive) would get slower. The ``stack`` fixture opens a
:class:`SessionSweep` when the session starts and finishes it when the session ends, so run
N+1 starts from what run 1 started from.

What the sweep removes:

- every crawl the session ran: those whose Redis record was created after the session began,
  and those the archive names in what it received since then (crawls run on a Redis database
  of their own, or whose keys a test already dropped, leave no record, but every crawl's
  items pass the archiver). Their Redis keys, archived documents, price history, quotes,
  ``crawl_runs`` rows, rejected items and data-quality results go, and so does a product
  their crawls first found (it has no history left);
- every document the archive received since the session began;
- every row and document of a scratch source (a name starting with one of
  ``SCRATCH_PREFIXES``), whichever session wrote it, so a run that was killed before its
  sweep is cleaned by the next one.

A demo product seen before the session stays, with the state the session's last crawl of it
left (the next crawl compares with its history, which the sweep restored).
The suite owns the checkout's stack while it runs: what a user crawls by hand during a test run
is swept with the session's.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import redis

from sluice.crawl import registry, retention
from sluice.crawl.fingerprints import PREFIX as FINGERPRINTS
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
    "DELETE FROM product_prices WHERE crawl_id = ANY(%(crawls)s)",
    "DELETE FROM products WHERE source LIKE ANY(%(patterns)s)",
    # A demo product the session's crawls first found has no history left: it goes too.
    "DELETE FROM products p WHERE p.last_crawl_id = ANY(%(crawls)s)"
    " AND NOT EXISTS (SELECT 1 FROM product_prices pp WHERE pp.product_id = p.id)",
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

    def recorded_crawls(self, server: redis.Redis) -> list[str]:
        """The crawl ids whose Redis record was created since the session began."""
        crawls = []
        for crawl_id in retention.crawl_ids(server):
            created = server.hget(CrawlKeys(crawl_id).meta, "created_at")
            if created is not None and int(created) >= self.started_at:
                crawls.append(crawl_id)
        return crawls

    def finish(self) -> SweepResult:
        """Remove the session's crawls and every scratch source; what was removed."""
        server = redis_storage.client(self.settings.redis_url)
        recorded = self.recorded_crawls(server)
        client = mongo.client(self.settings.mongo_url, timeout=300)
        try:
            raw_items = client.get_default_database()["raw_items"]
            since = {"received_at": {"$gte": datetime.fromtimestamp(self.started_at, UTC)}}
            # Every crawl's items pass the archiver, so the archive names the crawls that left
            # no Redis record (run on a database of their own, or their keys already dropped).
            archived = {c for c in raw_items.distinct("crawl_id", since) if isinstance(c, str)}
            crawls = sorted(archived.union(recorded))
            # The archive answers a filter by scanning it, so one delete with every condition.
            documents = raw_items.delete_many(
                {
                    "$or": [
                        since,
                        {"crawl_id": {"$in": crawls}},
                        {"source": {"$regex": self._scratch_regex()}},
                    ]
                }
            ).deleted_count
        finally:
            client.close()
        result = SweepResult(crawls=len(crawls), documents=documents)
        result.rows = self._tables(crawls)
        self._crawl_keys(server, recorded)
        # Fingerprints would vouch for products the tables just lost: a later session's first
        # crawl would send seen notices for them instead of the items.
        fingerprints = list(server.scan_iter(match=f"{FINGERPRINTS}*", count=1000))
        if fingerprints:
            server.delete(*fingerprints)
        return result

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
                removed[table] = removed.get(table, 0) + conn.execute(statement, params).rowcount
        return removed

    def _scratch_regex(self) -> str:
        return "^(" + "|".join(re.escape(prefix) for prefix in self.scratch_prefixes) + ")"

    @staticmethod
    def _crawl_keys(server: redis.Redis, crawls: list[str]) -> None:
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
