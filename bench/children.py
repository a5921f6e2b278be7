"""Child processes the benchmarks start: a free port for a server, waiting until it answers,
and stopping it whatever state it is in."""

from __future__ import annotations

import http.client
import socket
import subprocess
import time


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_answering(
    child: subprocess.Popen, port: int, path: str, what: str, seconds: float
) -> None:
    """Return once ``GET path`` on ``port`` answers 200; RuntimeError naming ``what`` when the
    child exits first or ``seconds`` pass."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise RuntimeError(f"{what} exited {child.returncode} before answering {path}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{what} did not answer {path} on port {port} within {seconds:.0f} s")


def stop(child: subprocess.Popen, grace: float = 30) -> None:
    """SIGTERM ``child``, and SIGKILL it when it has not ended within ``grace`` seconds."""
    child.terminate()
    try:
        child.wait(grace)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait(30)
