"""Crawl requests: "crawl this spider from these start URLs, now", as events on ``sluice.events``.

`sluice crawl request` and ``POST /api/v1/crawl-requests`` publish them; in Airflow an
``AssetWatcher`` on the topic hands each valid one to the ``crawl_requests`` DAG, which starts
a ``crawl_<spider>`` run with the request's start URLs. One module holds the event's shape,
its validation and its publishing, so every publisher and the reader agree on them.

An event is a JSON object::

    {"type": "crawl_request", "request_id": "…", "spider": "ecommerce",
     "start_urls": ["https://…"], "max_pages": 0, "date": null, "requested_by": "cli"}
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sluice.crawl.specs import crawl_spec
from sluice.kafka.topics import EVENTS
from sluice.sources import spider_problem, start_urls_problems

EVENT_TYPE = "crawl_request"
MAX_PAGES = 1_000_000
#: the fields an event may carry (anything else is refused, so a typo is not ignored)
FIELDS = {"type", "request_id", "spider", "start_urls", "max_pages", "date", "requested_by"}


class CrawlRequestError(ValueError):
    """A crawl request that cannot start a crawl; the message lists every problem, and
    ``reason`` (the dead letter's) says whether it was JSON at all."""

    def __init__(self, message: str, reason: str = "invalid_request") -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class CrawlRequest:
    """One valid request to crawl ``spider`` from ``start_urls``."""

    spider: str
    start_urls: tuple[str, ...]
    max_pages: int = 0
    date: str | None = None
    requested_by: str = "cli"
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def dag_id(self) -> str:
        """The DAG whose run does the crawl."""
        return crawl_spec(self.spider).dag_id

    @property
    def run_id(self) -> str:
        """The Airflow run id of its crawl run: one per request, however often it is read."""
        return f"request__{self.request_id}"

    def run_conf(self) -> dict[str, Any]:
        """The params of that run."""
        conf: dict[str, Any] = {"start_urls": list(self.start_urls), "max_pages": self.max_pages}
        if self.date is not None:
            conf["date"] = self.date
        return conf

    def to_event(self) -> dict[str, Any]:
        """The event as it is published."""
        return {
            "type": EVENT_TYPE,
            "request_id": self.request_id,
            "spider": self.spider,
            "start_urls": list(self.start_urls),
            "max_pages": self.max_pages,
            "date": self.date,
            "requested_by": self.requested_by,
        }


def _max_pages_problem(value: object) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_PAGES:
        return None
    return f"max_pages {value!r} is not a whole number from 0 to {MAX_PAGES:,}"


def _date_problem(spider: object, value: object) -> str | None:
    dated = spider_problem(spider) is None and crawl_spec(str(spider)).dated
    if value is None:
        return f"spider {spider} crawls one day: give its date (YYYY-MM-DD)" if dated else None
    if not dated:
        return f"spider {spider!r} takes no date"
    try:
        date.fromisoformat(str(value))
    except ValueError:
        return f"date {value!r} is not a date like 2026-01-31"
    return None


def crawl_request_from(data: object, requested_by: str) -> CrawlRequest:
    """A request from decoded JSON (an API body or an event); CrawlRequestError names every
    problem."""
    if not isinstance(data, dict):
        raise CrawlRequestError(f"a crawl request is a JSON object, not {type(data).__name__}")
    spider, urls = data.get("spider"), data.get("start_urls")
    problems = [f"unknown field {name!r}" for name in sorted(set(data) - FIELDS)]
    if data.get("type", EVENT_TYPE) != EVENT_TYPE:
        problems.append(f"type {data.get('type')!r} is not {EVENT_TYPE!r}")
    problems += [p for p in (spider_problem(spider),) if p]
    if not isinstance(urls, list):
        problems.append(f"start_urls {urls!r} is not a list of URLs")
    else:
        problems += start_urls_problems(urls)
    max_pages = data.get("max_pages", 0)
    problems += [
        p for p in (_max_pages_problem(max_pages), _date_problem(spider, data.get("date"))) if p
    ]
    if problems:
        raise CrawlRequestError("; ".join(problems))
    extra = {"request_id": str(data["request_id"])} if data.get("request_id") else {}
    return CrawlRequest(
        spider=spider,
        start_urls=tuple(urls),
        max_pages=max_pages,
        date=data.get("date"),
        requested_by=str(data.get("requested_by") or requested_by),
        **extra,
    )


def parse_event(value: bytes | None) -> CrawlRequest:
    """The request an event on ``sluice.events`` carries; CrawlRequestError says why not."""
    if value is None:
        raise CrawlRequestError("the event has no value", reason="invalid_json")
    try:
        data = json.loads(value)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CrawlRequestError(f"the event is not JSON ({exc})", reason="invalid_json") from exc
    return crawl_request_from(data, requested_by="event")


def publish(kafka: dict[str, Any], request: CrawlRequest, timeout: float = 30.0) -> None:
    """Publish ``request`` on ``sluice.events`` and wait until Kafka has it; raises
    RuntimeError naming the topic when it was not delivered."""
    from sluice.kafka.producer import deliver, make_producer

    message = {
        "topic": EVENTS.name,
        "key": request.spider.encode(),
        "value": json.dumps(request.to_event()).encode(),
    }
    problem = deliver(make_producer(kafka, **{"linger.ms": 0}), [message], timeout)
    if problem:
        raise RuntimeError(
            f"crawl request {request.request_id} not published on {EVENTS.name}: {problem}"
        )
