"""Prometheus metrics of the API: requests and latency by route and status, cache results."""

from __future__ import annotations

import time

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)


class ApiMetrics:
    """One registry per app, so tests and several apps in a process do not collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "sluice_api_requests_total",
            "API requests by route, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "sluice_api_request_duration_seconds",
            "API request latency by route.",
            ["route"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        self.cache = Counter(
            "sluice_api_cache_total",
            "Cache lookups of the API by result (HIT, MISS, BYPASS).",
            ["result"],
            registry=self.registry,
        )

    def install(self, app: Flask) -> None:
        """Time every request and count it once it has its status."""

        @app.before_request
        def _start() -> None:
            g.started = time.perf_counter()

        @app.after_request
        def _count(response: Response) -> Response:
            route = request.url_rule.rule if request.url_rule else "unmatched"
            self.requests.labels(route, request.method, str(response.status_code)).inc()
            if "started" in g:
                self.latency.labels(route).observe(time.perf_counter() - g.started)
            if response.headers.get("X-Cache"):
                self.cache.labels(response.headers["X-Cache"]).inc()
            return response

    def response(self) -> Response:
        """The ``/metrics`` page."""
        return Response(generate_latest(self.registry), mimetype=CONTENT_TYPE_LATEST)
