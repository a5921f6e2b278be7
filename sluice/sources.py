"""The sources registry: the sites scheduled crawls start from.

A source is a named list of start URLs for one Sluice spider, stored in the ``sources`` table
(``sql/0011_sources.sql``). A ``crawl_<spider>`` run whose params give no start URLs crawls
those of every enabled source of its spider (:func:`start_urls_for`). ``sluice source`` adds,
lists, enables, disables and syncs sources; nothing here deletes one (disable it instead), so a
sync file that forgets a source cannot silently stop a crawl's history.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import psycopg

from sluice.crawl.specs import CRAWLS

#: the form of a source's name (the table's ``sources_name_slug`` check says the same)
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
#: keys of an entry of a sync file; ``enabled`` may be left out (true)
ENTRY_KEYS = ("name", "spider", "start_urls", "enabled")
# What `sluice source list --json` adds: accepted and ignored, so its output syncs back as is.
_LISTED_KEYS = ("created_at", "updated_at")


class SourceError(Exception):
    """A source is invalid, taken or missing; the message names it and what is wrong."""


class NoSourceError(SourceError, LookupError):
    """A spider has no enabled source, so a scheduled crawl of it has nothing to start from."""


@dataclass(frozen=True)
class Source:
    """One registered site: where ``spider`` starts crawling it."""

    name: str
    spider: str
    start_urls: tuple[str, ...]
    enabled: bool = True
    created_at: datetime | None = field(default=None, compare=False)
    updated_at: datetime | None = field(default=None, compare=False)

    def to_json(self) -> dict[str, Any]:
        """The source as one entry of a sync file (plus its timestamps, when stored)."""
        entry: dict[str, Any] = {
            "name": self.name,
            "spider": self.spider,
            "start_urls": list(self.start_urls),
            "enabled": self.enabled,
        }
        for key in _LISTED_KEYS:
            when = getattr(self, key)
            if when is not None:
                entry[key] = when.isoformat()
        return entry


@dataclass(frozen=True)
class SyncReport:
    """What :func:`sync` did, by source name."""

    added: list[str]
    changed: list[str]
    unchanged: list[str]


# -- validation --------------------------------------------------------------------------------
def known_spiders() -> list[str]:
    """The spiders a source may name: those Sluice schedules crawls for."""
    return [spec.spider for spec in CRAWLS]


def name_problem(name: object) -> str | None:
    """Why ``name`` cannot name a source, or None when it is a slug."""
    if isinstance(name, str) and NAME.fullmatch(name):
        return None
    return (
        f"name {name!r} is not a slug (1-63 lowercase letters, digits, '-' or '_', "
        "starting with a letter or digit)"
    )


def spider_problem(spider: object) -> str | None:
    """Why ``spider`` cannot crawl a source, or None when Sluice has that spider."""
    if spider in known_spiders():
        return None
    return f"unknown spider {spider!r} (Sluice's spiders: {', '.join(known_spiders())})"


def url_problem(url: object) -> str | None:
    """Why ``url`` cannot start a crawl, or None when it is an http(s) URL with a host."""
    if not isinstance(url, str) or not url:
        return f"start URL {url!r} is not a URL"
    if any(ch.isspace() for ch in url):
        return f"start URL {url!r} contains whitespace"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - parsing the port validates it
    except ValueError as exc:
        return f"start URL {url!r} is not a URL ({exc})"
    if parts.scheme.lower() not in ("http", "https"):
        return f"start URL {url!r} is not an http(s) URL"
    if not parts.hostname:
        return f"start URL {url!r} has no host"
    return None


def start_urls_problems(start_urls: Sequence[object]) -> list[str]:
    """What is wrong with a source's start URLs: none at all, or each bad one."""
    if not start_urls:
        return ["no start URL (give at least one http(s) URL)"]
    return [p for p in map(url_problem, start_urls) if p]


def problems(name: object, spider: object, start_urls: Sequence[object]) -> list[str]:
    """Everything wrong with a source, each naming the value at fault (empty: it is valid)."""
    found = [p for p in (name_problem(name), spider_problem(spider)) if p]
    return found + start_urls_problems(start_urls)


def make_source(name: str, spider: str, start_urls: Iterable[str], enabled: bool = True) -> Source:
    """A valid :class:`Source`; SourceError lists every problem of the input.

    Repeated start URLs are kept once, in their first place.
    """
    urls = list(start_urls)
    found = problems(name, spider, urls)
    if found:
        raise SourceError(f"source {name!r}: {'; '.join(found)}")
    return Source(name, spider, tuple(dict.fromkeys(urls)), bool(enabled))


def parse(text: str, origin: str = "sources file") -> list[Source]:
    """The sources of a sync file: a JSON list of
    ``{"name": ..., "spider": ..., "start_urls": [...], "enabled": true}``.

    SourceError names ``origin`` and, for each bad entry, its position, its name and every
    problem: nothing is synced from a file with one bad entry.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceError(
            f"{origin}: not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from exc
    if not isinstance(data, list):
        raise SourceError(f"{origin}: expected a JSON list of sources, found {_json_type(data)}")
    found: list[Source] = []
    errors: list[str] = []
    first_at: dict[str, int] = {}
    for number, entry in enumerate(data, start=1):
        where = f"entry {number}"
        if not isinstance(entry, dict):
            errors.append(f"{where}: expected an object, found {_json_type(entry)}")
            continue
        if isinstance(entry.get("name"), str):
            where += f" ({entry['name']!r})"
        entry_errors = _entry_problems(entry)
        if entry_errors:
            errors.append(f"{where}: {'; '.join(entry_errors)}")
            continue
        if entry["name"] in first_at:
            errors.append(f"{where}: the name is taken by entry {first_at[entry['name']]}")
            continue
        first_at[entry["name"]] = number
        found.append(
            make_source(
                entry["name"], entry["spider"], entry["start_urls"], entry.get("enabled", True)
            )
        )
    if errors:
        raise SourceError(f"{origin}: " + "\n  ".join(["nothing synced:", *errors]))
    return found


def _entry_problems(entry: dict[str, Any]) -> list[str]:
    """Every problem of one entry of a sync file; a value is checked when it is there."""
    found = [f"missing {key!r}" for key in ENTRY_KEYS if key != "enabled" and key not in entry]
    unknown = sorted(set(entry) - set(ENTRY_KEYS) - set(_LISTED_KEYS))
    if unknown:
        found.append(
            f"unknown key(s) {', '.join(map(repr, unknown))} (known: {', '.join(ENTRY_KEYS)})"
        )
    if "name" in entry:
        found.append(name_problem(entry["name"]))
    if "spider" in entry:
        found.append(spider_problem(entry["spider"]))
    if not isinstance(entry.get("enabled", True), bool):
        found.append(f"'enabled' must be true or false, not {entry['enabled']!r}")
    urls = entry.get("start_urls")
    if "start_urls" in entry and not isinstance(urls, list):
        found.append(f"'start_urls' must be a list of URLs, not {_json_type(urls)}")
    elif "start_urls" in entry:
        found += start_urls_problems(urls)
    return [p for p in found if p]


def _json_type(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    return names.get(type(value), "a number")


# -- the registry ------------------------------------------------------------------------------
def _row(row: tuple) -> Source:
    name, spider, start_urls, enabled, created_at, updated_at = row
    return Source(name, spider, tuple(start_urls), enabled, created_at, updated_at)


def add(conn: psycopg.Connection, source: Source) -> Source:
    """Register a new source; SourceError when its name is taken."""
    try:
        with conn.transaction():
            row = conn.execute(
                "INSERT INTO sources (name, spider, start_urls, enabled) VALUES (%s, %s, %s, %s) "
                "RETURNING name, spider, start_urls, enabled, created_at, updated_at",
                (source.name, source.spider, list(source.start_urls), source.enabled),
            ).fetchone()
    except psycopg.errors.UniqueViolation as exc:
        raise SourceError(
            f"a source named {source.name!r} exists already: pick another name, or change it "
            "with `sluice source sync FILE`"
        ) from exc
    return _row(row)


def list_sources(conn: psycopg.Connection) -> list[Source]:
    """Every source, by name."""
    rows = conn.execute(
        "SELECT name, spider, start_urls, enabled, created_at, updated_at FROM sources "
        "ORDER BY name"
    ).fetchall()
    return [_row(row) for row in rows]


def set_enabled(conn: psycopg.Connection, name: str, enabled: bool) -> Source:
    """Enable or disable the source ``name``; SourceError when there is none."""
    row = conn.execute(
        "UPDATE sources SET enabled = %(enabled)s, "
        "updated_at = CASE WHEN enabled = %(enabled)s THEN updated_at ELSE now() END "
        "WHERE name = %(name)s "
        "RETURNING name, spider, start_urls, enabled, created_at, updated_at",
        {"name": name, "enabled": enabled},
    ).fetchone()
    if row is None:
        raise SourceError(f"no source named {name!r} (`sluice source list` shows them)")
    return _row(row)


def sync(conn: psycopg.Connection, sources: Sequence[Source]) -> SyncReport:
    """Make each of ``sources`` registered exactly as given, in one transaction.

    A source missing from the registry is added, one that differs is updated (spider, start
    URLs and enabled), and sources not in ``sources`` are left alone: a sync never deletes.
    """
    report = SyncReport([], [], [])
    with conn.transaction():
        rows = conn.execute(
            "SELECT name, spider, start_urls, enabled, created_at, updated_at "
            "FROM sources WHERE name = ANY(%s) FOR UPDATE",
            ([s.name for s in sources],),
        ).fetchall()
        stored = {row[0]: _row(row) for row in rows}
        for source in sources:
            before = stored.get(source.name)
            if before == source:
                report.unchanged.append(source.name)
                continue
            conn.execute(
                "INSERT INTO sources (name, spider, start_urls, enabled) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT (name) DO UPDATE SET spider = EXCLUDED.spider, "
                "start_urls = EXCLUDED.start_urls, enabled = EXCLUDED.enabled, updated_at = now()",
                (source.name, source.spider, list(source.start_urls), source.enabled),
            )
            (report.changed if before else report.added).append(source.name)
    return report


def add_missing(conn: psycopg.Connection, sources: Sequence[Source]) -> list[str]:
    """Register those of ``sources`` whose name is free; a registered one is left as it is
    (someone may have disabled or changed it on purpose). Returns the names added."""
    added = []
    with conn.transaction():
        for source in sources:
            row = conn.execute(
                "INSERT INTO sources (name, spider, start_urls, enabled) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT (name) DO NOTHING RETURNING name",
                (source.name, source.spider, list(source.start_urls), source.enabled),
            ).fetchone()
            if row:
                added.append(row[0])
    return added


def start_urls_for(conn: psycopg.Connection, spider: str) -> list[str]:
    """The start URLs of every enabled source of ``spider``, by source name, each once.

    NoSourceError, naming the spider and how to add a source, when it has no enabled one.
    """
    if problem := spider_problem(spider):
        raise SourceError(problem)
    rows = conn.execute(
        "SELECT start_urls FROM sources WHERE spider = %s AND enabled ORDER BY name", (spider,)
    ).fetchall()
    urls = list(dict.fromkeys(url for (start_urls,) in rows for url in start_urls))
    if not urls:
        raise NoSourceError(
            f"no enabled source for spider {spider!r}: add one with "
            f"`sluice source add NAME --spider {spider} --start-url URL`, or enable one with "
            "`sluice source enable NAME` (`sluice source list` shows them)"
        )
    return urls


def demo_sources(demo_site_url: str) -> list[Source]:
    """The bundled demo sites as sources: ``demo-<spider>`` at each spider's demo page."""
    base = demo_site_url.rstrip("/")
    return [
        make_source(f"demo-{spec.spider}", spec.spider, [base + spec.demo_path]) for spec in CRAWLS
    ]
