"""Per-app state: the current day, the flaky page's memory, and accessors for the data."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import date
from typing import TYPE_CHECKING

from flask import current_app

if TYPE_CHECKING:
    from demo.catalog import Catalog
    from demo.market import Market

EXTENSION = "sluice_demo"


class DemoState:
    """The current day the sites show and whether the flaky page has already failed once.

    The threaded server handles requests concurrently, so changes go through a lock; the
    flaky page must fail exactly once even when two crawler threads hit it together.
    """

    def __init__(self, day: date) -> None:
        self._lock = threading.Lock()
        self._day = day
        self._flaky_failed = False
        self._hits: Counter[str] = Counter()
        self._repriced: frozenset[str] = frozenset()

    def record_hit(self, path_and_query: str) -> None:
        """Count one request for a page (how tests see what crawlers fetched, and how often)."""
        with self._lock:
            self._hits[path_and_query] += 1

    def hits(self) -> dict[str, int]:
        """Requests served per path (with query string) since start or the last reset."""
        with self._lock:
            return dict(self._hits)

    @property
    def day(self) -> date:
        """The day whose prices and quotes the sites show by default."""
        with self._lock:
            return self._day

    def set_day(self, day: date) -> None:
        """Switch the sites to another day."""
        with self._lock:
            self._day = day

    def flaky_should_fail(self) -> bool:
        """True the first time it is asked in this app's lifetime (or since a reset)."""
        with self._lock:
            if self._flaky_failed:
                return False
            self._flaky_failed = True
            return True

    @property
    def repriced(self) -> frozenset[str]:
        """The skus shown a price one unit above the catalog's (see :meth:`reprice`)."""
        with self._lock:
            return self._repriced

    def reprice(self, skus: frozenset[str]) -> None:
        """Show ``skus`` one unit dearer than the catalog says, until a reset: a price change
        an incremental crawl must find, on a shop otherwise unchanged."""
        with self._lock:
            self._repriced = skus

    def reset(self) -> None:
        """Make the flaky page fail again on its next request, forget the hit counts and show
        the catalog's prices again."""
        with self._lock:
            self._flaky_failed = False
            self._hits.clear()
            self._repriced = frozenset()


def state() -> DemoState:
    """The state of the app handling the current request."""
    return current_app.extensions[EXTENSION]["state"]


def catalog() -> Catalog:
    """The shop catalog of the app handling the current request."""
    return current_app.extensions[EXTENSION]["catalog"]


def market() -> Market:
    """The market of the app handling the current request."""
    return current_app.extensions[EXTENSION]["market"]
