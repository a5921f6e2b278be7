"""The platform's state as Prometheus gauges, read from PostgreSQL at each scrape.

Crawls, data-quality checks, backups and Airflow deadlines are batch work: their outcome lives
in tables (``crawl_runs``, ``dq_results``, ``backup_runs``, ``deadline_misses``), not in a
long-running process. `sluice exporter` serves these gauges so alerts can ask "when did the
last good one finish?".
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import psycopg
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from sluice.crawl.runs import NEWEST_ENDED
from sluice.monitoring import deadlines

log = logging.getLogger(__name__)

# The newest run of each check: passed only if every scope of that run passed.
LAST_CHECKS = """
WITH newest AS (
    SELECT DISTINCT ON (check_name) check_name, run_id
    FROM dq_results ORDER BY check_name, checked_at DESC
)
SELECT r.check_name, bool_and(r.passed)
FROM dq_results r JOIN newest n USING (check_name, run_id)
GROUP BY r.check_name
"""
LAST_VERIFIED_BACKUP = (
    "SELECT extract(epoch FROM max(verified_at)) FROM backup_runs WHERE status = 'verified'"
)


class StateCollector(Collector):
    """Reads the state tables on each scrape; ``sluice_state_up`` is 0 when it could not."""

    def __init__(self, connect: Callable[[], psycopg.Connection]) -> None:
        self.connect = connect

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """The gauges of ``monitoring/README.md``'s state-exporter rows."""
        up = GaugeMetricFamily(
            "sluice_state_up", "1 when the state tables could be read at this scrape."
        )
        try:
            with self.connect() as conn:
                crawls = conn.execute(NEWEST_ENDED).fetchall()
                checks = conn.execute(LAST_CHECKS).fetchall()
                backup = conn.execute(LAST_VERIFIED_BACKUP).fetchone()
                late = conn.execute(deadlines.BY_DAG).fetchall()
        except psycopg.Error as exc:
            log.warning("state exporter: cannot read PostgreSQL (%s)", exc)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        finished = GaugeMetricFamily(
            "sluice_crawl_last_finished_timestamp_seconds",
            "When the newest finished or failed crawl of each spider ended.",
            labels=["spider"],
        )
        stored = GaugeMetricFamily(
            "sluice_crawl_last_items_stored",
            "Items the newest finished or failed crawl of each spider stored.",
            labels=["spider"],
        )
        failed = GaugeMetricFamily(
            "sluice_crawl_last_failed",
            "1 when the newest finished or failed crawl of each spider failed.",
            labels=["spider"],
        )
        for spider, ended, items, did_fail in crawls:
            finished.add_metric([spider], float(ended))
            stored.add_metric([spider], items)
            failed.add_metric([spider], 1 if did_fail else 0)
        yield from (finished, stored, failed)
        passed = GaugeMetricFamily(
            "sluice_dq_check_passed",
            "1 when the newest run of each data-quality check passed, else 0.",
            labels=["check"],
        )
        for check, ok in checks:
            passed.add_metric([check], 1 if ok else 0)
        yield passed
        if backup and backup[0] is not None:
            yield GaugeMetricFamily(
                "sluice_backup_last_verified_timestamp_seconds",
                "When the newest backup set that restored and compared equal was verified.",
                value=float(backup[0]),
            )
        missed = GaugeMetricFamily(
            "sluice_dag_deadline_misses",
            "Runs of each DAG that were not finished by their deadline.",
            labels=["dag_id"],
        )
        newest = GaugeMetricFamily(
            "sluice_dag_deadline_last_missed_timestamp_seconds",
            "The newest deadline a run of each DAG missed.",
            labels=["dag_id"],
        )
        for dag_id, count, at in late:
            missed.add_metric([dag_id], count)
            newest.add_metric([dag_id], float(at))
        yield from (missed, newest)
