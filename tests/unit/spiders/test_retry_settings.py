"""A JavaScript page that times out in the browser is retried like any download error, so its
products are not silently missing from the crawl."""

from __future__ import annotations

from playwright._impl._errors import TimeoutError as PlaywrightTimeout
from scrapy import Request, Spider
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.utils.test import get_crawler

import spiders.settings as project


def test_a_browser_timeout_is_retried_with_the_project_settings():
    crawler = get_crawler(Spider, settings_dict={"RETRY_EXCEPTIONS": project.RETRY_EXCEPTIONS,
                                                 "RETRY_TIMES": project.RETRY_TIMES})  # fmt: skip
    crawler.spider = crawler._create_spider("shop")
    middleware = RetryMiddleware.from_crawler(crawler)
    request = Request("http://127.0.0.1:8000/shop/c/gadgets", meta={"playwright": True})
    retried = middleware.process_exception(
        request, PlaywrightTimeout("Page.wait_for_load_state: Timeout 30000ms exceeded.")
    )
    assert isinstance(retried, Request) and retried.meta["retry_times"] == 1
