"""Ports for servers the tests start themselves."""

from __future__ import annotations

import socket


def free_port_block(count: int, also: int = 10000, start: int = 20000) -> int:
    """The first port P >= ``start`` such that P..P+count-1, and each plus ``also``, are free.

    For a server that takes several ports in a row (SeaweedFS: S3, master, volume, filer,
    each with a gRPC port 10000 higher).
    """
    for first in range(start, 65535 - count - also, count):
        ports = [first + i for i in range(count)]
        if all(_free(p) and _free(p + also) for p in ports):
            return first
    raise RuntimeError(f"no {count} free ports in a row above {start}")


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
