"""``/api/v1/crawl-requests``: ask for a crawl now (a key with the ``crawl:request`` scope).

The request is published on ``sluice.events``; Airflow's ``crawl_requests`` DAG starts the
``crawl_<spider>`` run (see :mod:`sluice.crawl.requests`).
"""

from __future__ import annotations

from flask import g
from flask.views import MethodView
from sqlalchemy import select

from api.blueprints.common import data_blueprint, stores
from api.errors import ApiError
from api.keys import CRAWL_REQUEST
from api.schemas import CrawlRequestAccepted, CrawlRequestBody, Error
from api.tables import api_keys
from sluice.crawl.requests import CrawlRequestError, crawl_request_from, publish

blp = data_blueprint(
    "crawl_requests",
    __name__,
    "/api/v1/crawl-requests",
    f"Ask for crawls (the key needs the `{CRAWL_REQUEST}` scope: `sluice api-key create NAME "
    f"--scope {CRAWL_REQUEST}`).",
)


def require_scope(key_id: int, scope: str) -> None:
    """403 unless the calling key has ``scope`` (looked up in PostgreSQL: a rare write)."""
    with stores().engine.connect() as conn:
        scopes = conn.execute(select(api_keys.c.scopes).where(api_keys.c.id == key_id)).scalar()
    if scope not in (scopes or []):
        raise ApiError(
            403,
            "forbidden",
            f"this API key may not {scope}: create one with `sluice api-key create NAME "
            f"--scope {scope}`",
        )


@blp.route("")
class CrawlRequests(MethodView):
    """Crawl requests."""

    @blp.arguments(CrawlRequestBody)
    @blp.response(202, CrawlRequestAccepted)
    @blp.alt_response(400, schema=Error, description="Not a crawl Sluice can run")
    @blp.alt_response(403, schema=Error, description=f"The key lacks the {CRAWL_REQUEST} scope")
    @blp.alt_response(503, schema=Error, description="Kafka did not take the request")
    def post(self, body: dict) -> dict:
        """Publish a crawl request; Airflow starts the crawl run it names."""
        caller = g.admission.caller
        require_scope(caller.key_id, CRAWL_REQUEST)
        fields = {**body, "date": body["date"].isoformat() if body.get("date") else None}
        try:
            wanted = crawl_request_from(fields, requested_by=f"api:{caller.name}")
        except CrawlRequestError as exc:
            raise ApiError(400, "invalid_request", str(exc)) from exc
        try:
            publish(stores().settings.kafka, wanted)
        except RuntimeError as exc:
            raise ApiError(503, "unavailable", str(exc)) from exc
        return {
            "request_id": wanted.request_id,
            "spider": wanted.spider,
            "dag_id": wanted.dag_id,
            "run_id": wanted.run_id,
            "start_urls": list(wanted.start_urls),
            "max_pages": wanted.max_pages,
        }
