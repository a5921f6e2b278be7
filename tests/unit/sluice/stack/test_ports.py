"""Port checks used before a service starts."""

from __future__ import annotations

import os
import socket

from sluice.stack.ports import port_holder, port_is_free


def test_a_listening_port_is_taken_and_its_holder_named():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        assert not port_is_free("127.0.0.1", port)
        assert port_holder(port) is not None
        assert port_holder(port).startswith(f"pid {os.getpid()} ")
    assert port_is_free("127.0.0.1", port)
