"""``/api/v1/crawls``: crawl runs with their stats (not cached: runs change as they go)."""

from __future__ import annotations

from flask.views import MethodView

from api.blueprints.common import data_blueprint, stores
from api.errors import ApiError, invalid_parameter
from api.schemas import CrawlPage, CrawlQuery, CrawlRun
from api.services import crawls as service
from api.text import unstorable

blp = data_blueprint("crawls", __name__, "/api/v1/crawls", "Crawl runs and their stats.")


@blp.route("")
class Crawls(MethodView):
    """Crawl runs, newest first."""

    @blp.arguments(CrawlQuery, location="query", as_kwargs=True)
    @blp.response(200, CrawlPage)
    def get(self, **filters) -> dict:
        """List crawl runs (keyset pagination: follow `next`)."""
        with stores().engine.connect() as conn:
            rows, following = service.list_crawls(conn, filters)
        # The schema dumps these rows; the sort key only served the cursor.
        items = [{k: v for k, v in row.items() if k != "started_key"} for row in rows]
        return {"items": items, "next": following}


@blp.route("/<string:crawl_id>")
class OneCrawl(MethodView):
    """One crawl run."""

    @blp.response(200, CrawlRun)
    def get(self, crawl_id: str) -> dict:
        """A crawl run by id."""
        problem = unstorable(crawl_id)
        if problem:
            raise invalid_parameter("crawl_id", problem)
        with stores().engine.connect() as conn:
            row = service.get_crawl(conn, crawl_id)
        if row is None:
            raise ApiError(404, "not_found", f"no crawl run {crawl_id}")
        return row
