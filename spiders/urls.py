"""URL identity and scope for crawls: one canonical form per page, and what a crawl may follow."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

# Query parameters that say how a visitor arrived, not which page it is. A trailing "*"
# matches any key with that prefix.
TRACKING_PARAMS: frozenset[str] = frozenset(
    {
        "utm_*",
        "gclid",
        "fbclid",
        "mc_cid",
        "mc_eid",
        "ref",
        "ref_src",
        "igshid",
        "yclid",
        "_ga",
        "spm",
    }
)

_DEFAULT_PORTS = {"http": 80, "https": 443}


def canonicalize(url: str, *, strip_params: Iterable[str] = TRACKING_PARAMS) -> str:
    """The one form of a URL that every link to the same page shares.

    Lowercases the scheme and host, drops the default port and the fragment, removes the
    ``strip_params`` query keys (case-insensitively; "utm_*" style prefixes allowed), sorts the
    remaining query parameters and normalises percent-encoding. The path keeps its case.
    Raises ValueError when the port is not a number.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    exact, prefixes = _param_rules(strip_params)
    query = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if not _is_stripped(key.lower(), exact, prefixes)
    ]
    netloc = _netloc(scheme, parts.hostname, parts.port, parts.username, parts.password)
    rebuilt = urlunsplit((scheme, netloc, parts.path, urlencode(query), ""))
    return canonicalize_url(rebuilt, keep_fragments=False)


def same_site(url: str, start_url: str) -> bool:
    """Whether ``url`` belongs to the crawl that started at ``start_url``.

    True for the start host itself and its subdomains, on the same port (a default port
    counts as none, so http and https links to one host are the same site). A leading "www."
    on the start host is ignored, so ``www.shop.example`` also covers ``shop.example``.
    Relative and non-http(s) URLs are not on any site.
    """
    target, start = _site(url), _site(start_url)
    if target is None or start is None:
        return False
    (host, port), (start_host, start_port) = target, start
    start_host = start_host.removeprefix("www.")
    return port == start_port and (host == start_host or host.endswith("." + start_host))


def is_denied(url: str, patterns: Iterable[str | re.Pattern[str]] | None) -> bool:
    """Whether any of the regular expressions matches somewhere in the URL."""
    return any(_compiled(p).search(url) for p in patterns or ())


def _param_rules(strip_params: Iterable[str]) -> tuple[frozenset[str], tuple[str, ...]]:
    names = [p.lower() for p in strip_params]
    exact = frozenset(n for n in names if not n.endswith("*"))
    prefixes = tuple(n[:-1] for n in names if n.endswith("*"))
    return exact, prefixes


def _is_stripped(key: str, exact: frozenset[str], prefixes: tuple[str, ...]) -> bool:
    return key in exact or (bool(prefixes) and key.startswith(prefixes))


def _netloc(
    scheme: str, host: str | None, port: int | None, user: str | None, password: str | None
) -> str:
    netloc = host or ""
    if ":" in netloc:
        netloc = f"[{netloc}]"  # IPv6 literals keep their brackets
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        netloc = f"{netloc}:{port}"
    if user is not None:
        credentials = user if password is None else f"{user}:{password}"
        netloc = f"{credentials}@{netloc}"
    return netloc


def _site(url: str) -> tuple[str, int | None] | None:
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in _DEFAULT_PORTS or not parts.hostname:
        return None
    if port == _DEFAULT_PORTS[parts.scheme.lower()]:
        port = None
    return parts.hostname.rstrip("."), port


@lru_cache(maxsize=256)
def _compiled_text(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _compiled(pattern: str | re.Pattern[str]) -> re.Pattern[str]:
    return pattern if isinstance(pattern, re.Pattern) else _compiled_text(pattern)
