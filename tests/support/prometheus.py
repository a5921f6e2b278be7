"""Asking the local Prometheus through its HTTP API, as an operator's tools do."""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request
from collections.abc import Callable


class PrometheusApi:
    """Instant queries against ``/api/v1/query``."""

    def __init__(self, settings) -> None:
        self.base = settings.prometheus_url.rstrip("/")

    def get(self, path: str, **params: str) -> dict:
        """GET ``/api/v1<path>``; the ``data`` of a successful answer."""
        url = f"{self.base}/api/v1{path}?{urllib.parse.urlencode(params)}"
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - our URL
            body = json.load(response)
        assert body["status"] == "success", body
        return body["data"]

    def query(self, promql: str) -> dict[tuple, float]:
        """An instant vector as {sorted label items: value}."""
        data = self.get("/query", query=promql)
        return {tuple(sorted(r["metric"].items())): float(r["value"][1]) for r in data["result"]}

    def scalar(self, promql: str) -> float | None:
        """The single value of a query that aggregates to one series (None: no series)."""
        found = self.query(promql)
        assert len(found) <= 1, found
        return next(iter(found.values()), None)

    def wait(
        self, promql: str, accept: Callable[[float | None], bool], timeout: float = 90
    ) -> float | None:
        """Until ``accept`` takes the query's value; fails naming the last value seen."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.scalar(promql)
            if accept(value):
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"{promql} = {value} after {timeout:.0f}s")
            time.sleep(2)
