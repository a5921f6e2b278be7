"""The spider and downloader middlewares in spiders/middlewares (no network, no Redis)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from scrapy import Request, Spider
from scrapy.exceptions import NotConfigured
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from spiders.leasing import ERRBACK_META, LEASE_META, LeaseBook
from spiders.middlewares.filtering import RequestFilterMiddleware
from spiders.middlewares.leases import LeaseMiddleware
from spiders.middlewares.rotation import ProxyRotationMiddleware, UserAgentRotationMiddleware

START = "https://shop.example/"


def crawler_with(settings: dict | None = None, **spider_attrs):
    crawler = get_crawler(Spider, settings or {})
    spider = Spider("t")
    for name, value in spider_attrs.items():
        setattr(spider, name, value)
    crawler.spider = spider
    return crawler


def response_for(url: str = START + "list", meta: dict | None = None) -> HtmlResponse:
    return HtmlResponse(url, body=b"<html></html>", request=Request(url, meta=meta or {}))


async def _aiter(items):
    for item in items:
        yield item


def run_async(agen) -> list:
    async def collect():
        return [x async for x in agen]

    return asyncio.run(collect())


# --- RequestFilterMiddleware ------------------------------------------------------------------


def filter_mw(deny: list[str] | None = None, sites: list[str] | None = None):
    settings = {"DENY_PATTERNS": deny} if deny else {}
    crawler = crawler_with(settings, allowed_sites=[START] if sites is None else sites)
    return RequestFilterMiddleware.from_crawler(crawler), crawler.stats


def test_filter_canonicalises_tracking_parameters():
    mw, stats = filter_mw()
    request = Request(START + "p/1?utm_source=mail&b=2&a=1&gclid=X#reviews", meta={"k": "v"})

    (out,) = mw.process_spider_output(response_for(), [request])

    assert out.url == START + "p/1?a=1&b=2"
    assert out.meta == {"k": "v"}  # a replaced request keeps everything else
    assert stats.get_value("filtered/canonicalized") == 1


def test_filter_passes_an_already_canonical_request_as_is():
    mw, stats = filter_mw()
    request = Request(START + "p/1?a=1")

    (out,) = mw.process_spider_output(response_for(), [request])

    assert out is request
    assert stats.get_value("filtered/canonicalized") is None


def test_filter_drops_offsite_requests():
    mw, stats = filter_mw()
    requests = [
        Request("https://other.example/p/1"),
        Request("https://shop.example:8443/p/1"),  # another port is another site
        Request("https://cdn.shop.example/p/2"),  # subdomains belong to the site
    ]

    out = list(mw.process_spider_output(response_for(), requests))

    assert [r.url for r in out] == ["https://cdn.shop.example/p/2"]
    assert stats.get_value("filtered/offsite") == 2


def test_filter_without_allowed_sites_keeps_every_site():
    mw, stats = filter_mw(sites=[])

    out = list(mw.process_spider_output(response_for(), [Request("https://other.example/")]))

    assert [r.url for r in out] == ["https://other.example/"]
    assert stats.get_value("filtered/offsite") is None


def test_filter_drops_denied_requests():
    mw, stats = filter_mw(deny=[r"/cart\b", r"[?&]sort="])
    requests = [
        Request(START + "cart"),
        Request(START + "c/tea?sort=price"),
        Request(START + "cartography"),
        Request(START + "c/tea"),
    ]

    out = list(mw.process_spider_output(response_for(), requests))

    assert [r.url for r in out] == [START + "cartography", START + "c/tea"]
    assert stats.get_value("filtered/denied") == 2
    assert stats.get_value("filtered/offsite") is None


def test_filter_lets_dont_filter_requests_through_untouched():
    mw, stats = filter_mw(deny=["cart"])
    requests = [
        Request("https://other.example/x?utm_source=a", dont_filter=True),
        Request(START + "cart?utm_source=a", dont_filter=True),
    ]

    out = list(mw.process_spider_output(response_for(), requests))

    assert out == requests
    assert [r.url for r in out] == [r.url for r in requests]
    assert stats.get_stats() == {}


def test_filter_passes_items_through():
    mw, _ = filter_mw()
    item = {"name": "teapot"}

    out = list(mw.process_spider_output(response_for(), [item, Request("https://off.example/")]))

    assert out == [item]


def test_filter_async_twin_filters_the_same_way():
    mw, stats = filter_mw(deny=["cart"])
    item = {"name": "teapot"}
    result = _aiter([item, Request(START + "cart"), Request(START + "p?utm_medium=x&id=1")])

    out = run_async(mw.process_spider_output_async(response_for(), result))

    assert out[0] is item
    assert [r.url for r in out[1:]] == [START + "p?id=1"]
    assert stats.get_value("filtered/denied") == 1
    assert stats.get_value("filtered/canonicalized") == 1


# --- UserAgentRotationMiddleware --------------------------------------------------------------


def test_user_agents_rotate_round_robin():
    mw = UserAgentRotationMiddleware.from_crawler(crawler_with({"USER_AGENTS": ["ua-1", "ua-2"]}))
    agents = []
    for _ in range(5):
        request = Request(START)
        mw.process_request(request)
        agents.append(request.headers[b"User-Agent"])

    assert agents == [b"ua-1", b"ua-2", b"ua-1", b"ua-2", b"ua-1"]


def test_keep_user_agent_is_respected_and_does_not_use_up_a_turn():
    mw = UserAgentRotationMiddleware.from_crawler(crawler_with({"USER_AGENTS": ["ua-1", "ua-2"]}))
    kept = Request(START, headers={"User-Agent": "mine"}, meta={"keep_user_agent": True})
    first, second = Request(START), Request(START)

    mw.process_request(first)
    mw.process_request(kept)
    mw.process_request(second)

    assert kept.headers[b"User-Agent"] == b"mine"
    assert first.headers[b"User-Agent"] == b"ua-1"
    assert second.headers[b"User-Agent"] == b"ua-2"


def test_user_agent_rotation_not_configured_without_agents():
    with pytest.raises(NotConfigured):
        UserAgentRotationMiddleware.from_crawler(crawler_with())


# --- ProxyRotationMiddleware ------------------------------------------------------------------

PROXIES = ["http://p1:8080", "http://p2:8080", "http://p3:8080"]


def proxy_mw(backoff: float = 60.0):
    crawler = crawler_with({"PROXIES": PROXIES, "PROXY_BACKOFF": backoff})
    return ProxyRotationMiddleware.from_crawler(crawler), crawler.stats


def route(mw) -> Request:
    request = Request(START)
    mw.process_request(request)
    return request


def test_proxies_rotate_round_robin():
    mw, stats = proxy_mw()

    requests = [route(mw) for _ in range(4)]

    assert [r.meta["proxy"] for r in requests] == [*PROXIES, PROXIES[0]]
    assert [r.meta["rotated_proxy"] for r in requests] == [*PROXIES, PROXIES[0]]
    assert stats.get_value("proxy/assigned") == 4


def test_a_failed_proxy_rests_and_is_skipped():
    mw, stats = proxy_mw(backoff=60.0)
    failed = route(mw)  # p1
    assert failed.meta["proxy"] == PROXIES[0]

    mw.process_exception(failed, ConnectionRefusedError("refused"))

    # The retry middleware retries this very request: it must get another proxy.
    assert "proxy" not in failed.meta
    assert "rotated_proxy" not in failed.meta
    assert stats.get_value("proxy/failed") == 1
    assert [route(mw).meta["proxy"] for _ in range(4)] == [
        PROXIES[1],
        PROXIES[2],
        PROXIES[1],  # p1 is skipped while it rests
        PROXIES[2],
    ]


def test_a_rested_proxy_comes_back_after_its_backoff():
    mw, _ = proxy_mw(backoff=0.0)
    failed = route(mw)
    mw.process_exception(failed, TimeoutError())

    assert [route(mw).meta["proxy"] for _ in range(3)] == [PROXIES[1], PROXIES[2], PROXIES[0]]


def test_when_every_proxy_rests_the_least_rested_is_used():
    mw, _ = proxy_mw()
    for backoff, request in zip((30.0, 10.0, 20.0), [route(mw) for _ in PROXIES], strict=True):
        mw.backoff = backoff
        mw.process_exception(request, TimeoutError())

    assert route(mw).meta["proxy"] == PROXIES[1]


def test_a_request_that_set_its_proxy_keeps_it():
    mw, stats = proxy_mw()
    own = Request(START, meta={"proxy": "http://mine:3128"})
    direct = Request(START, meta={"proxy": None})

    mw.process_request(own)
    mw.process_request(direct)

    assert own.meta["proxy"] == "http://mine:3128"
    assert direct.meta["proxy"] is None
    assert "rotated_proxy" not in own.meta
    assert stats.get_value("proxy/assigned") is None
    # Its failure does not rest any rotated proxy, nor drop the request's own choice.
    mw.process_exception(own, TimeoutError())
    assert own.meta["proxy"] == "http://mine:3128"
    assert mw.rested_until == {}
    assert route(mw).meta["proxy"] == PROXIES[0]


def test_proxy_rotation_not_configured_without_proxies():
    with pytest.raises(NotConfigured):
        ProxyRotationMiddleware.from_crawler(crawler_with())


# --- LeaseMiddleware --------------------------------------------------------------------------


class FakeBook:
    def __init__(self) -> None:
        self.completed: list[Request] = []

    def complete(self, request: Request) -> None:
        self.completed.append(request)


def lease_mw(book: object | None = None):
    crawler = crawler_with()
    if book is not None:
        crawler.spider.lease_book = book
    return LeaseMiddleware.from_crawler(crawler)


LEASED_META = {LEASE_META: "lease-1", ERRBACK_META: "on_error", "trade_date": "2026-11-20"}


def test_lease_completes_only_after_the_whole_output():
    book = FakeBook()
    mw = lease_mw(book)
    response = response_for(meta=dict(LEASED_META))
    item = {"name": "teapot"}

    out = mw.process_spider_output(response, iter([item, Request(START + "next")]))
    assert next(out) is item
    assert book.completed == []
    assert next(out).url == START + "next"
    assert book.completed == []  # the last request may not be queued yet
    assert list(out) == []

    assert book.completed == [response.request]


def test_lease_is_not_completed_when_the_output_is_abandoned():
    book = FakeBook()
    out = lease_mw(book).process_spider_output(response_for(meta=dict(LEASED_META)), iter([1, 2]))

    next(out)
    out.close()

    assert book.completed == []


def test_lease_completes_for_an_empty_output():
    book = FakeBook()
    response = response_for(meta=dict(LEASED_META))

    assert list(lease_mw(book).process_spider_output(response, iter([]))) == []

    assert book.completed == [response.request]


def test_follow_ups_do_not_inherit_the_parent_lease():
    book = FakeBook()
    response = response_for(meta=dict(LEASED_META))
    copied = Request(START + "page-2", meta=response.meta)
    plain = Request(START + "page-3", meta={"trade_date": "2026-11-20"})

    out = list(lease_mw(book).process_spider_output(response, [copied, plain]))

    assert out[0].url == copied.url
    assert out[0].meta == {"trade_date": "2026-11-20"}
    assert out[1] is plain  # nothing to strip: the very same request
    # The parent keeps its lease until it is completed (here by the fake book, which keeps it).
    assert response.meta[LEASE_META] == "lease-1"


def test_follow_up_with_only_an_errback_marker_is_detached_too():
    response = response_for(meta={"k": 1})
    request = Request(START + "x", meta={ERRBACK_META: "on_error", "k": 1})

    (out,) = lease_mw(FakeBook()).process_spider_output(response, [request])

    assert out.meta == {"k": 1}


def test_lease_completes_on_a_spider_exception():
    book = FakeBook()
    response = response_for(meta=dict(LEASED_META))

    assert lease_mw(book).process_spider_exception(response, ValueError("boom")) is None

    assert book.completed == [response.request]


def test_lease_async_twin_completes_after_its_output():
    book = FakeBook()
    response = response_for(meta=dict(LEASED_META))
    follow = Request(START + "next", meta=response.meta)

    out = run_async(lease_mw(book).process_spider_output_async(response, _aiter([follow])))

    assert [r.meta for r in out] == [{"trade_date": "2026-11-20"}]
    assert book.completed == [response.request]


def test_lease_middleware_without_a_book_passes_output_through():
    response = response_for(meta=dict(LEASED_META))
    mw = lease_mw(None)

    assert list(mw.process_spider_output(response, [1, 2])) == [1, 2]
    mw.process_spider_exception(response, ValueError("boom"))


def test_lease_middleware_with_a_real_book_moves_the_lease_to_completed():
    book = LeaseBook(queue=SimpleNamespace())
    book.hold("lease-1")
    response = response_for(meta=dict(LEASED_META))

    list(lease_mw(book).process_spider_output(response, [Request(START, meta=response.meta)]))

    assert book.held == set()
    assert book.completed == ["lease-1"]
