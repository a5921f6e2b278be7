"""HTTP load from keep-alive client threads: as fast as they can (closed loop) or at a set
rate (paced), with every request's latency.

Paced load times each request from the moment it was due, not from when a client got round
to sending it, so a server that falls behind shows it in the tail instead of hiding it.
"""

from __future__ import annotations

import http.client
import math
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class LoadResult:
    """What one load run saw: latencies in seconds (sorted) and the ``X-Cache`` answers."""

    seconds: float
    latencies: list[float] = field(default_factory=list)
    cache: Counter = field(default_factory=Counter)

    @property
    def rate(self) -> float:
        """Requests per second."""
        return len(self.latencies) / self.seconds

    def percentile_ms(self, fraction: float) -> float:
        """The latency at ``fraction`` (0.5, 0.99), in milliseconds."""
        return percentile(self.latencies, fraction) * 1000


def percentile(ordered: list[float], fraction: float) -> float:
    """Nearest-rank percentile of sorted ``ordered``; ValueError when it is empty."""
    if not ordered:
        raise ValueError("no latencies to take a percentile of")
    rank = min(len(ordered), max(1, math.ceil(fraction * len(ordered))))
    return ordered[rank - 1]


@dataclass
class _Tally:
    """What one client thread saw, merged into the run when it ends."""

    latencies: list[float] = field(default_factory=list)
    cache: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)


class _Run:
    """The state the client threads of one run share."""

    def __init__(self, port: int, paths: Callable[[], str], headers: dict) -> None:
        self.port, self.paths, self.headers = port, paths, headers
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.cache: Counter = Counter()
        self.failures: list[str] = []

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def ask(self, conn: http.client.HTTPConnection) -> tuple[int, str]:
        conn.request("GET", self.paths(), headers=self.headers)
        response = conn.getresponse()
        response.read()
        return response.status, response.getheader("X-Cache", "-")

    def record(self, tally: _Tally) -> None:
        with self.lock:
            self.latencies.extend(tally.latencies)
            self.cache.update(tally.cache)
            self.failures.extend(tally.failures)

    def timed(
        self, conn: http.client.HTTPConnection, since: float, tally: _Tally
    ) -> http.client.HTTPConnection:
        """One request on ``conn``, its latency counted from ``since``; the connection to use
        next (a new one when this one failed, the failure tallied)."""
        try:
            status, state = self.ask(conn)
        except OSError as exc:
            tally.failures.append(f"{type(exc).__name__}: {exc}")
            conn.close()
            return self.connection()
        tally.latencies.append(time.perf_counter() - since)
        tally.cache[state] += 1
        if status != 200:
            tally.failures.append(f"HTTP {status}")
        return conn

    def finish(self, threads: list[threading.Thread], began: float) -> LoadResult:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if self.failures:
            raise RuntimeError(
                f"{len(self.failures)} of {len(self.latencies)} requests failed, "
                f"e.g. {self.failures[0]}"
            )
        return LoadResult(time.monotonic() - began, sorted(self.latencies), self.cache)


def closed_loop(
    port: int, paths: Callable[[], str], headers: dict, seconds: float, clients: int
) -> LoadResult:
    """``clients`` keep-alive clients asking ``paths()`` back to back for ``seconds``."""
    run = _Run(port, paths, headers)
    began = time.monotonic()
    stop = began + seconds

    def client() -> None:
        tally = _Tally()
        conn = run.connection()
        try:
            while time.monotonic() < stop:
                conn = run.timed(conn, time.perf_counter(), tally)
        finally:
            conn.close()
            run.record(tally)

    return run.finish([threading.Thread(target=client) for _ in range(clients)], began)


def paced(
    port: int, paths: Callable[[], str], headers: dict, seconds: float, clients: int, rate: float
) -> LoadResult:
    """``rate`` requests/s for ``seconds``, spread over ``clients`` keep-alive connections;
    each latency runs from when its request was due."""
    if rate <= 0:
        raise ValueError(f"a paced load needs a positive rate, not {rate}")
    run = _Run(port, paths, headers)
    total = max(1, int(rate * seconds))
    began = time.perf_counter() + 0.1
    counter = iter(range(total))

    def client() -> None:
        tally = _Tally()
        conn = run.connection()
        try:
            while True:
                with run.lock:
                    n = next(counter, None)
                if n is None:
                    break
                due = began + n / rate
                time.sleep(max(0.0, due - time.perf_counter()))
                conn = run.timed(conn, due, tally)
        finally:
            conn.close()
            run.record(tally)

    return run.finish([threading.Thread(target=client) for _ in range(clients)], time.monotonic())
