"""What Airflow's crawl-request watcher does with each message on ``sluice.events``.

The ``AssetWatcher`` of the ``crawl_requests`` DAG runs :func:`crawl_request_event` on every
message (in the triggerer, through the Kafka provider's ``AwaitMessageTrigger``). A valid
request becomes the asset event that starts a run; anything else goes to the dead-letter
topic with the reason, and starts nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from plugins.hooks.sluice import SluiceHook
from sluice.crawl.requests import CrawlRequestError, parse_event

log = logging.getLogger(__name__)

#: the dead letters' stage
STAGE = "crawl_request"


def dead_letter(message: Any, error: CrawlRequestError) -> None:
    """Send a refused event to the dead-letter topic, with the reason in its headers."""
    from processors.base import Origin, Rejection
    from processors.dlq import DeadLetters
    from sluice.kafka.producer import make_producer

    rejection = Rejection(
        origin=Origin.of(message),
        stage=STAGE,
        reason=error.reason,
        error=str(error),
        payload=message.value() or b"",
    )
    DeadLetters(make_producer(SluiceHook().kafka_connection())).publish([rejection])


def crawl_request_event(message: Any) -> dict[str, Any] | None:
    """The asset event's payload for a valid crawl request; None (no run) for any other
    message, which is dead-lettered. A dead letter that cannot be delivered raises, so the
    message is not committed and is read again."""
    try:
        request = parse_event(message.value())
    except CrawlRequestError as exc:
        log.warning(
            "crawl request %s[%s]@%s refused: %s",
            message.topic(),
            message.partition(),
            message.offset(),
            exc,
        )
        dead_letter(message, exc)
        return None
    return request.to_event()
