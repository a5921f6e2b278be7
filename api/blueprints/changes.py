"""``/api/v1/changes``: the change feed of product prices and availability (not cached: a
feed is read at a moving position, and its end moves as transactions end)."""

from __future__ import annotations

from flask.views import MethodView

from api.blueprints.common import data_blueprint, stores
from api.schemas import ChangePage, ChangeQuery
from api.services import changes as service

blp = data_blueprint(
    "changes", __name__, "/api/v1/changes", "What changed: new products, prices, availability."
)


@blp.route("")
class Changes(MethodView):
    """Changes in the order they were recorded."""

    @blp.arguments(ChangeQuery, location="query", as_kwargs=True)
    @blp.response(200, ChangePage)
    def get(self, **filters) -> dict:
        """List changes after `since` (follow `next`; an empty page's `next` is where to poll)."""
        with stores().engine.connect() as conn:
            return service.list_changes(conn, filters)
