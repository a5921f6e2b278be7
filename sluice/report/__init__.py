"""``sluice report``: one crawl run as a self-contained HTML page.

The page is built from :mod:`sluice.report.data` (queries), :mod:`sluice.report.svg`
(charts) and :mod:`sluice.report.html` (the page). This module stays free of imports beyond
the standard library, so Airflow tasks can import :func:`report_hint` cheaply.
"""

from __future__ import annotations

import re
import shlex

# Crawl ids come from spiders, DAGs and users: keep file names to a portable alphabet.
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def report_hint(crawl_id: str) -> str:
    """The command line that writes the report of ``crawl_id``, quoted for a POSIX shell."""
    return f"sluice report {shlex.quote(crawl_id)}"


def report_filename(crawl_id: str) -> str:
    """``<crawl_id>.html`` with anything but letters, digits, ``.``, ``_`` and ``-`` made
    ``_``, so an id can never name a path outside the reports directory."""
    stem = _UNSAFE.sub("_", crawl_id).lstrip(".") or "_"
    return f"{stem}.html"
