"""Missed Airflow deadlines: recorded by the DAGs' deadline callback, read by the exporter.

A ``DeadlineAlert`` fires in Airflow's triggerer, which keeps no state Prometheus can scrape.
The miss is written to ``deadline_misses`` in PostgreSQL instead, where every exporter replica
reads the same answer and the alert rules see it as gauges.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg

RECORD = """
INSERT INTO deadline_misses (dag_id, run_id, deadline_at, queued_at)
VALUES (%(dag_id)s, %(run_id)s, %(deadline_at)s, %(queued_at)s)
ON CONFLICT (dag_id, run_id, deadline_at) DO NOTHING
"""
#: per DAG: how many runs missed a deadline, and the newest deadline missed
BY_DAG = """
SELECT dag_id, count(*), extract(epoch FROM max(deadline_at))
FROM deadline_misses GROUP BY dag_id
"""


@dataclass(frozen=True)
class DeadlineMiss:
    """One run that was not finished by its deadline."""

    dag_id: str
    run_id: str
    deadline_at: datetime
    queued_at: datetime | None = None


def record_miss(conn: psycopg.Connection, miss: DeadlineMiss) -> None:
    """Store ``miss`` once: the callback may run again for the same deadline."""
    conn.execute(RECORD, miss.__dict__)
