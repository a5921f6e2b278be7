"""canonicalize, same_site and is_denied in spiders/urls.py."""

from __future__ import annotations

import re

import pytest

from spiders.urls import TRACKING_PARAMS, canonicalize, is_denied, same_site


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # tracking parameters, any utm_* key, in any case
        (
            "https://shop.example/p/1?utm_source=news&utm_medium=email&UTM_Content=a&gclid=X"
            "&fbclid=Y&mc_cid=1&mc_eid=2&ref=home&ref_src=twsrc&igshid=Z&yclid=3&_ga=4&spm=a.b",
            "https://shop.example/p/1",
        ),
        ("https://shop.example/p/1?utm_newthing=1&id=7", "https://shop.example/p/1?id=7"),
        # remaining parameters sorted, blank values kept
        (
            "https://shop.example/search?q=tea&page=2&a=",
            "https://shop.example/search?a=&page=2&q=tea",
        ),
        ("https://shop.example/s?b=2&a=1&b=1", "https://shop.example/s?a=1&b=1&b=2"),
        # fragment removed
        ("https://shop.example/p/1#reviews", "https://shop.example/p/1"),
        # scheme and host lowercased, path case kept
        ("HTTPS://Shop.EXAMPLE/Products/Tea-Pot", "https://shop.example/Products/Tea-Pot"),
        # default ports dropped, others kept
        ("http://shop.example:80/a", "http://shop.example/a"),
        ("https://shop.example:443/a", "https://shop.example/a"),
        ("https://shop.example:8443/a", "https://shop.example:8443/a"),
        ("http://shop.example:443/a", "http://shop.example:443/a"),
        # empty path, percent-encoding normalised
        ("https://shop.example", "https://shop.example/"),
        ("https://shop.example/a b?q=%7e", "https://shop.example/a%20b?q=~"),
    ],
)
def test_canonicalize(url, expected):
    assert canonicalize(url) == expected


def test_canonicalize_is_idempotent():
    url = "HTTP://Shop.Example:80/P/1?b=2&utm_source=x&a=1#top"
    assert canonicalize(canonicalize(url)) == canonicalize(url)


def test_canonicalize_with_other_params():
    url = "https://shop.example/p?sessionid=abc&utm_source=x&color=red&trk_1=a"
    assert canonicalize(url, strip_params={"sessionid", "trk_*"}) == (
        "https://shop.example/p?color=red&utm_source=x"
    )
    assert canonicalize(url, strip_params=()) == (
        "https://shop.example/p?color=red&sessionid=abc&trk_1=a&utm_source=x"
    )


def test_tracking_params_are_exported():
    assert {"gclid", "fbclid", "utm_*", "ref", "spm"} <= TRACKING_PARAMS


@pytest.mark.parametrize(
    ("url", "start_url", "expected"),
    [
        ("https://shop.example/p/1", "https://shop.example/", True),
        ("http://shop.example/p/1", "https://shop.example/", True),
        ("https://SHOP.example./p/1", "https://shop.example/", True),
        ("https://cdn.shop.example/p/1", "https://shop.example/", True),
        ("https://shop.example/p/1", "https://www.shop.example/", True),
        ("https://img.shop.example/p/1", "https://www.shop.example/", True),
        ("https://shop.example:8000/p/1", "https://shop.example:8000/", True),
        ("https://shop.example:443/p/1", "https://shop.example/", True),
        # another port is another site
        ("https://shop.example:8001/p/1", "https://shop.example:8000/", False),
        ("https://shop.example/p/1", "https://shop.example:8000/", False),
        # look-alike and parent hosts
        ("https://evilshop.example/", "https://shop.example/", False),
        ("https://shop.example.evil.test/", "https://shop.example/", False),
        ("https://example/", "https://shop.example/", False),
        ("https://shop.example/", "https://cdn.shop.example/", False),
        # not web links
        ("mailto:sales@shop.example", "https://shop.example/", False),
        ("/p/1", "https://shop.example/", False),
        ("https://shop.example:bad/", "https://shop.example/", False),
    ],
)
def test_same_site(url, start_url, expected):
    assert same_site(url, start_url) is expected


def test_is_denied():
    patterns = [r"/cart", r"[?&]sort=", re.compile(r"\.pdf$", re.IGNORECASE)]
    assert is_denied("https://shop.example/cart/add?id=1", patterns)
    assert is_denied("https://shop.example/c/tea?sort=price", patterns)
    assert is_denied("https://shop.example/manual.PDF", patterns)
    assert not is_denied("https://shop.example/p/1", patterns)
    assert not is_denied("https://shop.example/p/1", [])
    assert not is_denied("https://shop.example/p/1", None)


def test_is_denied_with_a_bad_pattern_raises():
    with pytest.raises(re.error):
        is_denied("https://shop.example/", ["("])
