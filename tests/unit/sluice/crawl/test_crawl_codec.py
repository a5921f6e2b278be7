"""The JSON codec of queued requests in sluice/crawl/codec.py."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from scrapy import Request
from scrapy.utils.request import request_from_dict

from sluice.crawl import codec

NESTED_META = {
    "depth": 2,
    "trade_date": "2026-11-20",
    "ratio": 0.5,
    "proxy": None,
    "flags": {"seen": True, "path": ["a", {"deep": b"\x00\x01raw"}]},
}


def post_request() -> Request:
    return Request(
        "https://shop.example/api/search?q=tea",
        method="POST",
        body=b'\x00\xff{"q": "tea"}',
        headers={"Content-Type": "application/json", "X-Token": b"\xfe\xedsecret"},
        cookies={"session": "abc"},
        meta=dict(NESTED_META),
        priority=7,
        dont_filter=True,
        flags=["seed"],
        cb_kwargs={"page": 1},
    )


def test_a_request_dict_round_trips():
    original = post_request().to_dict()

    decoded = codec.loads(codec.dumps(original))

    assert decoded["headers"] == original["headers"]
    assert all(isinstance(k, bytes) for k in decoded["headers"])
    assert decoded["headers"][b"X-Token"] == [b"\xfe\xedsecret"]
    assert decoded["body"] == b'\x00\xff{"q": "tea"}'
    assert decoded["meta"] == NESTED_META
    assert decoded["meta"]["flags"]["path"][1]["deep"] == b"\x00\x01raw"
    assert decoded == original


def test_a_round_tripped_dict_rebuilds_the_same_request():
    request = request_from_dict(codec.loads(codec.dumps(post_request().to_dict())))

    assert request.url == "https://shop.example/api/search?q=tea"
    assert request.method == "POST"
    assert request.body == b'\x00\xff{"q": "tea"}'
    assert request.headers.getlist("X-Token") == [b"\xfe\xedsecret"]
    assert request.headers[b"Content-Type"] == b"application/json"
    assert request.cookies == {"session": "abc"}
    assert request.meta == NESTED_META
    assert (request.priority, request.dont_filter) == (7, True)
    assert (request.flags, request.cb_kwargs) == (["seed"], {"page": 1})


def test_the_encoding_is_readable_json():
    data = codec.dumps(Request("https://shop.example/", meta={"k": "v"}).to_dict())

    parsed = json.loads(data)  # what redis-cli shows: plain JSON, no pickles
    assert parsed["url"] == "https://shop.example/"
    assert parsed["meta"] == {"k": "v"}
    assert parsed["body"] == {"__b64__": ""}
    assert b" " not in data  # compact


def test_identical_dicts_give_identical_bytes():
    first = codec.dumps(post_request().to_dict())
    second = codec.dumps(post_request().to_dict())

    assert first == second


def test_the_order_of_string_keys_does_not_change_the_bytes():
    one = {"url": "https://s.example/", "meta": {"a": 1, "b": {"x": 1, "y": 2}}}
    other = {"meta": {"b": {"y": 2, "x": 1}, "a": 1}, "url": "https://s.example/"}

    assert codec.dumps(one) == codec.dumps(other)


def test_different_requests_give_different_bytes():
    one = codec.dumps(Request("https://s.example/a").to_dict())
    other = codec.dumps(Request("https://s.example/a", priority=1).to_dict())

    assert one != other


def test_header_order_does_not_change_the_bytes():
    one = Request("https://s.example/", headers={"Accept": "text/html", "X-Token": "t"})
    other = Request("https://s.example/", headers={"X-Token": "t", "Accept": "text/html"})
    assert one.to_dict() == other.to_dict()

    assert codec.dumps(one.to_dict()) == codec.dumps(other.to_dict())


def test_equal_sets_give_identical_bytes():
    # Two equal sets built in different orders iterate differently (collision chains), as the
    # same set does in two worker processes with different hash seeds.
    one = set(range(0, 64, 8)) | {64}
    other = {64} | set(range(0, 64, 8))
    assert one == other

    assert codec.dumps({"meta": {"ids": one}}) == codec.dumps({"meta": {"ids": other}})


@pytest.mark.parametrize(
    ("value", "type_name"),
    [
        (datetime(2026, 11, 20, tzinfo=UTC), "datetime"),
        (Decimal("1.5"), "Decimal"),
        (object(), "object"),
    ],
)
def test_a_non_json_meta_value_raises_naming_its_type(value, type_name):
    request = Request("https://s.example/", meta={"nested": {"list": [1, value]}})

    with pytest.raises(TypeError, match=rf"not {type_name}:"):
        codec.dumps(request.to_dict())


def test_loads_accepts_text():
    data = codec.dumps({"body": b"\x01"})

    assert codec.loads(data.decode()) == {"body": b"\x01"}
