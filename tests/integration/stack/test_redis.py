"""Redis of the native stack: the append-only file keeps queues across a crash."""

from __future__ import annotations

import os
import signal
import time
import uuid

import pytest

from sluice.stack.services.base import NotReady
from sluice.storage.redis import client

pytestmark = [pytest.mark.redis, pytest.mark.stack]


def wait_until_ready(stack, name: str, old_pid: int, timeout: float = 30) -> int:
    """Wait for the supervisor to have restarted ``name`` and for it to answer; return its pid."""
    service = next(s for s in stack.services if s.name == name)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = stack.supervisor.states()[name]
        if state.state == "RUNNING" and state.pid != old_pid:
            try:
                service.check_ready()
                return state.pid
            except NotReady:
                pass
        time.sleep(0.2)
    raise AssertionError(f"{name} did not come back within {timeout}s")


def test_append_only_file_is_on(stack, settings):
    assert client(settings.redis_url).config_get("appendonly") == {"appendonly": "yes"}


def test_a_list_survives_a_killed_server(stack, settings):
    key = f"sluice:test:queue:{uuid.uuid4().hex[:8]}"
    conn = client(settings.redis_url)
    conn.rpush(key, *[f"request-{i}" for i in range(100)])
    # appendfsync everysec: after a second the writes are on disk.
    time.sleep(1.5)
    old_pid = stack.supervisor.states()["redis"].pid
    # SIGKILL: no shutdown save, so only the AOF can bring the list back; the supervisor
    # restarts the server because it died unexpectedly.
    os.kill(old_pid, signal.SIGKILL)
    wait_until_ready(stack, "redis", old_pid)
    conn = client(settings.redis_url)
    try:
        assert conn.lrange(key, 0, -1) == [f"request-{i}" for i in range(100)]
    finally:
        conn.delete(key)
