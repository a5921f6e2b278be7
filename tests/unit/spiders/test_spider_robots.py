"""robots.txt is obeyed by every request, also by those that arrive while it is being fetched.

The middleware under test is the one the project's settings enable, built as Scrapy builds it;
its robots.txt download is held back until several requests wait for it.
"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from scrapy import Request, Spider
from scrapy.exceptions import IgnoreRequest
from scrapy.http import TextResponse
from scrapy.settings import Settings
from scrapy.utils.conf import build_component_list
from scrapy.utils.misc import load_object
from scrapy.utils.test import get_crawler

import spiders.settings as project

SITE = "http://127.0.0.1:8000"
ROBOTS = b"User-agent: *\nDisallow: /shop/private/\n"


def enabled_robots_middlewares() -> list[str]:
    """The downloader middlewares the project enables whose name says robots."""
    settings = Settings()
    settings.setmodule(project, priority="project")
    enabled = build_component_list(settings.getwithbase("DOWNLOADER_MIDDLEWARES"))
    return [path for path in enabled if "robots" in path.lower()]


async def outcomes_while_robots_loads(early: list[str], late: tuple[str, ...] = ()) -> tuple:
    """Send ``early`` through the middleware before robots.txt arrives, ``late`` after: what
    became of each request, in order, and the crawl's stats."""
    crawler = get_crawler(Spider, {"ROBOTSTXT_OBEY": True, "USER_AGENT": project.USER_AGENT})
    crawler.spider = Spider("shop")
    arrived = asyncio.get_running_loop().create_future()
    fetched: list[str] = []

    async def download_async(request: Request) -> TextResponse:
        fetched.append(request.url)
        await arrived
        return TextResponse(request.url, body=ROBOTS, request=request)

    crawler.engine = SimpleNamespace(download_async=download_async)
    (path,) = enabled_robots_middlewares()
    middleware = load_object(path).from_crawler(crawler)

    async def send(page: str) -> str:
        try:
            await middleware.process_request(Request(SITE + page))
        except IgnoreRequest:
            return "refused"
        return "sent"

    sending = [asyncio.ensure_future(send(page)) for page in early]
    for _ in range(5):  # every request reaches the middleware and waits
        await asyncio.sleep(0)
    assert fetched == [f"{SITE}/robots.txt"]
    arrived.set_result(None)
    outcomes = [*await asyncio.gather(*sending)]
    outcomes += [await send(page) for page in late]
    return outcomes, crawler.stats.get_stats()


def test_every_request_waiting_for_robots_txt_is_checked():
    # A worker's first burst of leased requests: the disallowed page twice, never first.
    early = ["/shop/", "/shop/c/audio", "/shop/private/", "/shop/c/kitchen", "/shop/private/"]
    outcomes, stats = asyncio.run(outcomes_while_robots_loads(early))
    assert (outcomes, stats.get("robotstxt/forbidden"), stats.get("robotstxt/request_count")) == (
        ["sent", "sent", "refused", "sent", "refused"],
        2,
        1,
    )


def test_requests_after_robots_txt_arrived_are_checked_too():
    outcomes, stats = asyncio.run(
        outcomes_while_robots_loads(["/shop/"], late=("/shop/private/", "/"))
    )
    assert (outcomes, stats.get("robotstxt/forbidden")) == (["sent", "refused", "sent"], 1)


def test_the_project_enables_exactly_one_robots_middleware():
    assert enabled_robots_middlewares() == ["spiders.middlewares.robots.RobotsTxtMiddleware"]
