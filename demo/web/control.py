"""``/_demo/``: switch the day the sites show, change some prices, and reset the flaky page
(for tests, demos and benchmarks)."""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify, request
from werkzeug.exceptions import BadRequest

from demo.web.params import parse_day
from demo.web.state import catalog, state

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


@bp.post("/reprice")
def reprice():
    """Show the body's ``{"count": N}`` first priced products (in sku order) one unit dearer,
    until a reset; answers the skus changed."""
    body = request.get_json(silent=True)
    count = body.get("count") if isinstance(body, dict) else None
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise BadRequest('expected a JSON body {"count": N}, N a whole number >= 0')
    shop = catalog()
    private = set(shop.PRIVATE_SKUS)
    priced = sorted(
        p.sku for p in shop.products if p.base_price is not None and p.sku not in private
    )
    skus = frozenset(priced[:count])
    state().reprice(skus)
    logger.info("demo shop shows %d product(s) one unit dearer", len(skus))
    return jsonify({"repriced": sorted(skus)})


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
