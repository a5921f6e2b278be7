"""A lean HTTP/1.1 load generator for the API benchmarks: keep-alive clients on raw sockets.

Each client costs little Python per request (one prebuilt request, one read of the headers and
the body by Content-Length), so on a small machine the server, not the load generator, is what
is measured. Two ways to load:
- flat out (closed loop): every client sends its next request as soon as it has the answer;
- paced (open loop): the clients share a fixed rate and send on schedule; a latency counts from
  the moment the request was due, so a server falling behind shows in the tail instead of
  quietly slowing the clients down.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Load:
    """What a load measured: requests/s and latency percentiles (ms)."""

    rate: float
    p50: float
    p99: float
    requests: int

    @property
    def tail(self) -> float:
        """p99 / p50: how far the slow requests are from the typical one."""
        return self.p99 / self.p50 if self.p50 else float("inf")


class Connection:
    """One keep-alive connection that sends GETs and reads whole responses."""

    def __init__(self, port: int, headers: dict[str, str]) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.extra = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        self.buffer = b""

    def get(self, path: str) -> int:
        """GET ``path``; the response's status (the body is read and dropped)."""
        self.sock.sendall(f"GET {path} HTTP/1.1\r\nHost: bench\r\n{self.extra}\r\n".encode())
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        while len(self.buffer) < length:
            self._fill()
        self.buffer = self.buffer[length:]
        return status

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection mid-response")
        self.buffer += chunk

    def close(self) -> None:
        """Close the socket."""
        self.sock.close()


def run(
    port: int,
    paths: Callable[[], str],
    headers: dict[str, str],
    seconds: float,
    clients: int,
    rate: float | None = None,
) -> Load:
    """``clients`` connections asking ``paths()`` for ``seconds``: flat out, or at ``rate``
    requests/s in all when given. Any answer but 200 fails the run."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    began = time.monotonic() + 0.2  # every client connected before the clock starts
    stop = began + seconds

    def client(number: int) -> None:
        conn = Connection(port, headers)
        mine: list[float] = []
        interval = clients / rate if rate else 0.0
        due = began + interval * number / clients
        try:
            while True:
                if rate:
                    wait = due - time.monotonic()
                    if wait > 0:
                        time.sleep(wait)
                    start, due = due, due + interval
                else:
                    wait = began - time.monotonic()
                    if wait > 0:
                        time.sleep(wait)
                    start = time.monotonic()
                if start >= stop:
                    break
                status = conn.get(paths())
                mine.append(time.monotonic() - start)
                if status != 200:
                    errors.append(f"HTTP {status}")
        except OSError as exc:
            errors.append(f"{exc!r} on client {number}")
        finally:
            conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError(f"{len(errors)} requests failed, e.g. {errors[0]}")
    if not latencies:
        raise RuntimeError("no request finished: is the server answering?")
    latencies.sort()
    return Load(
        rate=len(latencies) / seconds,
        p50=percentile(latencies, 0.50) * 1000,
        p99=percentile(latencies, 0.99) * 1000,
        requests=len(latencies),
    )


def percentile(ordered: list[float], fraction: float) -> float:
    """The value below which ``fraction`` of the sorted ``ordered`` lie (nearest rank)."""
    rank = max(1, round(fraction * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]
