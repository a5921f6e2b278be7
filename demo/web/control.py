"""``/_demo/``: switch the day the sites show and reset the flaky page (for tests and demos)."""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify, request
from werkzeug.exceptions import BadRequest

from demo.web.params import parse_day
from demo.web.state import state

logger = logging.getLogger(__name__)

bp = Blueprint("control", __name__, url_prefix="/_demo")


@bp.get("/day")
def get_day():
    """The current day: ``{"day": "YYYY-MM-DD"}``."""
    return jsonify({"day": state().day.isoformat()})


@bp.post("/day")
def set_day():
    """Switch the current day to the body's ``{"day": "YYYY-MM-DD"}``."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or "day" not in body:
        raise BadRequest('expected a JSON body {"day": "YYYY-MM-DD"}')
    day = parse_day("day", body["day"])
    state().set_day(day)
    logger.info("demo sites now show %s", day.isoformat())
    return jsonify({"day": day.isoformat()})


@bp.get("/hits")
def hits():
    """Requests served per path and query since start or the last reset (``/_demo/`` excluded)."""
    return jsonify(state().hits())


@bp.post("/reset")
def reset():
    """Make the flaky page fail again and forget the hit counts."""
    state().reset()
    logger.info("demo state reset: the flaky page fails once more")
    return jsonify({"reset": True, "day": state().day.isoformat()})
