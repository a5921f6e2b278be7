"""The ``crawl_runs`` row of a crawl, as orchestration sees it: registered, then finalized."""

from __future__ import annotations

import json
from typing import Any

import psycopg

#: each spider's newest finished run, and its age in hours by the database's clock
LAST_FINISHED = """
SELECT s.spider, max(r.finished_at), extract(epoch FROM now() - max(r.finished_at)) / 3600
FROM unnest(%(spiders)s::text[]) AS s (spider)
LEFT JOIN crawl_runs r
    ON r.spider = s.spider AND r.status = 'finished' AND r.finished_at IS NOT NULL
GROUP BY s.spider
ORDER BY s.spider
"""

#: each spider's newest run that ended (finished or failed): when, items stored, whether it failed
NEWEST_ENDED = """
SELECT DISTINCT ON (spider) spider, extract(epoch FROM finished_at), items_stored,
       status = 'failed'
FROM crawl_runs
WHERE finished_at IS NOT NULL AND spider IS NOT NULL
  AND status IN ('finished', 'partial', 'failed')
ORDER BY spider, finished_at DESC
"""

REGISTER = """
INSERT INTO crawl_runs (crawl_id, spider, airflow_run_id, status, params, started_at, updated_at)
VALUES (%(crawl_id)s, %(spider)s, %(run_id)s, 'running', %(params)s, now(), now())
ON CONFLICT (crawl_id) DO UPDATE SET
    spider = EXCLUDED.spider,
    airflow_run_id = EXCLUDED.airflow_run_id,
    params = EXCLUDED.params,
    status = 'running',
    finished_at = NULL,
    started_at = LEAST(crawl_runs.started_at, EXCLUDED.started_at),
    updated_at = now()
"""

REOPEN = """
UPDATE crawl_runs SET status = 'running', finished_at = NULL, updated_at = now()
WHERE crawl_id = %(crawl_id)s
"""

FINALIZE = """
UPDATE crawl_runs SET status = %(status)s, stats = %(stats)s, items_received = %(received)s,
    finished_at = now(), updated_at = now()
WHERE crawl_id = %(crawl_id)s
RETURNING crawl_id, spider, status, items_received, items_stored, items_rejected,
          started_at, finished_at
"""


def register(
    conn: psycopg.Connection,
    crawl_id: str,
    spider: str,
    run_id: str | None,
    params: dict[str, Any],
) -> None:
    """Record (or, on a task retry, re-record) a crawl run as running."""
    conn.execute(
        REGISTER,
        {
            "crawl_id": crawl_id,
            "spider": spider,
            "run_id": run_id,
            "params": json.dumps(params, sort_keys=True),
        },
    )


def finalize(
    conn: psycopg.Connection, crawl_id: str, status: str, stats: dict[str, int]
) -> dict[str, Any]:
    """Close a run with its final status and crawl stats; returns the row."""
    cur = conn.execute(
        FINALIZE,
        {
            "crawl_id": crawl_id,
            "status": status,
            "stats": json.dumps(stats, sort_keys=True),
            # What reached Kafka: the processors' stored + rejected counts add up to it.
            "received": int(stats.get("kafka/delivered", 0)),
        },
    )
    row = cur.fetchone()
    if row is None:
        raise LookupError(f"crawl run {crawl_id} was never registered")
    names = [c.name for c in cur.description]
    return dict(zip(names, row, strict=True))


def reopen(conn: psycopg.Connection, crawl_id: str) -> None:
    """A run's failed pages are crawled again: it is running until finalized again."""
    conn.execute(REOPEN, {"crawl_id": crawl_id})
