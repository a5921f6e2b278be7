"""``/healthz`` (the process answers) and ``/readyz`` (PostgreSQL and Redis answer); no key."""

from __future__ import annotations

import redis
from flask import Blueprint, current_app, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from api.blueprints.common import stores

blp = Blueprint("health", __name__)


@blp.get("/healthz")
def healthz():
    """Liveness: the process serves requests."""
    return jsonify({"status": "ok"})


@blp.get("/readyz")
def readyz():
    """Readiness: both stores answer; 503 naming the one that does not."""
    checks: dict[str, str] = {}
    found = stores()
    try:
        with found.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["postgres"] = "ok"
    except SQLAlchemyError as exc:
        checks["postgres"] = f"unavailable: {str(exc).splitlines()[0][:200]}"
    try:
        found.redis.ping()
        checks["redis"] = "ok"
    except redis.RedisError as exc:
        checks["redis"] = f"unavailable: {exc}"
    ready = all(v == "ok" for v in checks.values())
    if not ready:
        return jsonify(
            {
                "error": {
                    "code": "not_ready",
                    "message": "not ready: " + ", ".join(k for k, v in checks.items() if v != "ok"),
                    "details": checks,
                }
            }
        ), 503
    return jsonify({"status": "ready", "checks": checks})


@blp.get("/metrics")
def metrics():
    """Prometheus metrics."""
    return current_app.extensions["sluice.metrics"].response()
