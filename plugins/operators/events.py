"""The ``crawl_requests`` DAG's step: the crawl runs its triggering events ask for."""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseOperator

from sluice.crawl.requests import CrawlRequestError, crawl_request_from


def requested_runs(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """For each event's valid crawl request, the arguments of the run that does it (the run
    id names the request, so an event seen twice starts one run)."""
    runs = []
    for extra in events:
        request = crawl_request_from(extra.get("payload"), requested_by="event")
        runs.append(
            {
                "trigger_dag_id": request.dag_id,
                "trigger_run_id": request.run_id,
                "conf": request.run_conf(),
            }
        )
    return runs


class CrawlRequestsOperator(BaseOperator):
    """Reads the asset events that started the run; returns one TriggerDagRunOperator's
    arguments per crawl request (none for a run started by hand)."""

    def execute(self, context: dict[str, Any]) -> list[dict[str, Any]]:
        extras = [
            dict(event.extra or {})
            for events in context["triggering_asset_events"].values()
            for event in events
        ]
        try:
            runs = requested_runs(extras)
        except CrawlRequestError as exc:
            # The watcher only lets valid requests through; one that is not was sent here
            # some other way (an asset event posted by hand).
            raise ValueError(f"an asset event is not a valid crawl request: {exc}") from exc
        for run in runs:
            self.log.info("crawl request: %s %s", run["trigger_dag_id"], run["conf"])
        return runs
