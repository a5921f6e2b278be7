"""Data-quality checks over the stored rows, their results in ``dq_results``.

The ``data_quality`` DAG (and each crawl's quality step) calls, with a psycopg connection::

    results = run_checks(conn, run_id, sources=[...], spiders=[...], crawl_id=...)
    record(conn, run_id, results)
    raise_for_failures(results)  # QualityError whose message is summary(results)
"""

from sluice.quality.checks import record, run_checks
from sluice.quality.results import (
    CHECK_NAMES,
    DEFAULT_MAX_NULL_RATES,
    CheckResult,
    QualityError,
    Thresholds,
    raise_for_failures,
    summary,
)

__all__ = [
    "CHECK_NAMES",
    "DEFAULT_MAX_NULL_RATES",
    "CheckResult",
    "QualityError",
    "Thresholds",
    "raise_for_failures",
    "record",
    "run_checks",
    "summary",
]
