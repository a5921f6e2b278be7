"""``serve`` hands the app to werkzeug's threaded server and logs where it listens."""

from __future__ import annotations

import logging
from datetime import date

from flask import Flask

from demo import server


def test_serve_runs_the_app_threaded_and_logs_one_line(monkeypatch, caplog):
    calls = []
    monkeypatch.setattr(server, "run_simple", lambda *args, **kwargs: calls.append((args, kwargs)))
    with caplog.at_level(logging.INFO, logger="demo.server"):
        server.serve(host="127.0.0.1", port=8123, seed=3, day=date(2026, 1, 2))
    ((args, kwargs),) = calls
    assert args[:2] == ("127.0.0.1", 8123)
    assert isinstance(args[2], Flask)
    assert kwargs["threaded"] is True
    assert args[2].test_client().get("/_demo/day").get_json() == {"day": "2026-01-02"}
    records = [r for r in caplog.records if r.name == "demo.server"]
    assert len(records) == 1
    assert "127.0.0.1:8123" in records[0].getMessage()
