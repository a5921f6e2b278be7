"""``crawl_requests``: crawl runs started by events on ``sluice.events``."""

from __future__ import annotations

from airflow.providers.common.messaging.triggers.msg_queue import MessageQueueTrigger
from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sdk import DAG, Asset, AssetWatcher

from plugins.factories.defaults import START, default_args, tags
from plugins.hooks.sluice import KAFKA_CONN_ID
from plugins.operators.events import CrawlRequestsOperator
from sluice.kafka.topics import EVENTS


def crawl_requests_asset() -> Asset:
    """The asset a valid crawl request on the events topic updates, through its watcher."""
    watcher = AssetWatcher(
        name="crawl_requests_topic",
        trigger=MessageQueueTrigger(
            scheme="kafka",
            topics=[EVENTS.name],
            apply_function="plugins.events.crawl_request_event",
            kafka_config_id=KAFKA_CONN_ID,
            poll_interval=1,
        ),
    )
    return Asset(name="crawl_requests", uri="sluice://events/crawl_requests", watchers=[watcher])


def crawl_requests_dag() -> DAG:
    """One run per batch of crawl requests; each request starts a ``crawl_<spider>`` run."""
    with DAG(
        dag_id="crawl_requests",
        description="Start crawl runs asked for on sluice.events (sluice crawl request, API).",
        doc_md=(
            "### Crawl requests\n\nStarted by events, not by a clock: `sluice crawl request "
            "SPIDER --start-url URL` and `POST /api/v1/crawl-requests` publish a crawl request "
            "on the Kafka topic `sluice.events`. This DAG's asset `crawl_requests` watches the "
            "topic (an `AssetWatcher` with the Kafka `MessageQueueTrigger`, in the triggerer); "
            "each valid request starts a `crawl_<spider>` run with the request's start URLs and "
            "max pages, whose run id is `request__<request id>`. A message that is not JSON or "
            "not a valid request (an unknown spider, a bad URL) goes to the dead-letter topic "
            "`sluice.dlq` (stage `crawl_request`) and starts nothing.\n\nNo params. Not "
            "backfilled: a request is acted on once, when it arrives."
        ),
        schedule=[crawl_requests_asset()],
        start_date=START,
        catchup=False,
        max_active_runs=4,
        default_args=default_args(),
        tags=tags("crawl", "events"),
    ) as dag:
        requests = CrawlRequestsOperator(task_id="read_requests")
        TriggerDagRunOperator.partial(
            task_id="start_crawl",
            logical_date=None,
            skip_when_already_exists=True,
            # Airflow 3.3 cannot load the default FreshRunsFirst strategy of a mapped task (its
            # scheduler fails creating the run); these runs are never backfills anyway.
            weight_rule="absolute",
        ).expand_kwargs(requests.output)
    return dag
