"""Is a TCP port free, and if not, who holds it."""

from __future__ import annotations

import socket

import psutil


def port_is_free(host: str, port: int) -> bool:
    """True when nothing listens on ``host:port`` (a bind would succeed)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Without SO_REUSEADDR a socket lingering in TIME_WAIT would look like a clash.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def port_holder(port: int) -> str | None:
    """A short description (``pid 123 redis-server``) of the process listening on ``port``."""
    try:
        connections = psutil.net_connections(kind="tcp")
    except psutil.AccessDenied:
        return None
    for conn in connections:
        if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port:
            if conn.pid is None:
                return None
            try:
                return f"pid {conn.pid} {psutil.Process(conn.pid).name()}"
            except psutil.Error:
                return f"pid {conn.pid}"
    return None
