"""`sluice source` as an operator runs it, on the real PostgreSQL (the writer role, as the
command connects). Each test registers sources under names of its own and deletes them."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner, Result
from psycopg import errors

from sluice.cli.main import cli
from sluice.storage.postgres import connect
from tests.support.sources import remove, unique_name

pytestmark = pytest.mark.postgres

SHOP = "https://shop.example/catalog"
MARKET = "http://market.example/quotes"


@pytest.fixture
def names(settings, migrated):
    """``names()`` is a source name no one uses; every such source is deleted after the test."""
    made: list[str] = []

    def new() -> str:
        made.append(unique_name("cli"))
        return made[-1]

    yield new
    remove(settings, *made)


def sluice(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["source", *args], input=stdin)


def add(name: str, spider: str = "ecommerce", *urls: str) -> Result:
    options = [arg for url in (urls or (SHOP,)) for arg in ("--start-url", url)]
    return sluice("add", name, "--spider", spider, *options)


def listed(name: str) -> dict | None:
    """The source ``name`` as `sluice source list --json` shows it, without its timestamps."""
    result = sluice("list", "--json")
    assert result.exit_code == 0, result.output
    for entry in json.loads(result.stdout):
        if entry["name"] == name:
            return {k: v for k, v in entry.items() if not k.endswith("_at")}
    return None


def sync(entries: list[dict]) -> Result:
    return sluice("sync", "-", stdin=json.dumps(entries))


def test_add_registers_an_enabled_source(names):
    name = names()
    assert add(name, "finance", MARKET, SHOP).exit_code == 0
    assert listed(name) == {
        "name": name, "spider": "finance", "start_urls": [MARKET, SHOP], "enabled": True
    }  # fmt: skip


def test_add_refuses_a_name_that_is_taken(names):
    name = names()
    add(name)
    again = add(name, "finance", MARKET)
    assert (again.exit_code, again.stderr.strip()) == (
        1,
        f"Error: a source named {name!r} exists already: pick another name, or change it with "
        "`sluice source sync FILE`",
    )


def test_list_shows_each_source_on_a_line(names):
    name = names()
    add(name, "ecommerce", SHOP, MARKET)
    rows = [line.split() for line in sluice("list").stdout.splitlines()]
    # NAME SPIDER ENABLED UPDATED (a date and a time) START URLS
    assert [row[:3] + row[5:] for row in rows if row[0] == name] == [
        [name, "ecommerce", "yes", SHOP, MARKET]
    ]


def test_disable_keeps_the_source_but_switches_it_off(names):
    name = names()
    add(name)
    assert sluice("disable", name).stdout == f"source {name!r} disabled\n"
    assert listed(name)["enabled"] is False


def test_enable_switches_a_disabled_source_back_on(names):
    name = names()
    add(name)
    sluice("disable", name)
    sluice("enable", name)
    assert listed(name)["enabled"] is True


def test_disable_of_an_unknown_source_names_it(names):
    result = sluice("disable", (name := names()))
    assert (result.exit_code, result.stderr.strip()) == (
        1,
        f"Error: no source named {name!r} (`sluice source list` shows them)",
    )


def test_sync_adds_the_sources_of_a_file(names):
    first, second = names(), names()
    result = sync(
        [
            {"name": first, "spider": "ecommerce", "start_urls": [SHOP]},
            {"name": second, "spider": "finance", "start_urls": [MARKET], "enabled": False},
        ]
    )
    assert (
        result.stdout == f"synced <stdin>: added {first}, {second}; changed none; unchanged none\n"
    )


def test_sync_updates_a_source_to_what_the_file_says(names):
    name = names()
    add(name, "ecommerce", SHOP)
    sync([{"name": name, "spider": "finance", "start_urls": [MARKET], "enabled": False}])
    assert listed(name) == {
        "name": name, "spider": "finance", "start_urls": [MARKET], "enabled": False
    }  # fmt: skip


def test_sync_leaves_a_source_the_file_does_not_name(names):
    kept, other = names(), names()
    add(kept, "ecommerce", SHOP)
    sync([{"name": other, "spider": "finance", "start_urls": [MARKET]}])
    assert listed(kept) == {
        "name": kept,
        "spider": "ecommerce",
        "start_urls": [SHOP],
        "enabled": True,
    }


def test_a_second_sync_of_the_same_file_changes_nothing(names, settings):
    entries = [{"name": names(), "spider": "ecommerce", "start_urls": [SHOP]}]
    sync(entries)
    assert (
        sync(entries).stdout
        == f"synced <stdin>: added none; changed none; unchanged {entries[0]['name']}\n"
    )


def test_a_sync_with_one_bad_entry_writes_nothing(names):
    good = names()
    result = sync(
        [
            {"name": good, "spider": "ecommerce", "start_urls": [SHOP]},
            {"name": names(), "spider": "ecommerce", "start_urls": ["ftp://shop.example/"]},
        ]
    )
    assert (result.exit_code, listed(good)) == (1, None)


def test_the_table_refuses_a_start_url_that_is_not_http_even_from_sql(settings, names):
    with (
        connect(settings.postgres_writer_url, autocommit=True) as writer,
        pytest.raises(errors.CheckViolation, match="sources_start_urls_http"),
    ):
        writer.execute(
            "INSERT INTO sources (name, spider, start_urls) VALUES (%s, 'ecommerce', %s)",
            (names(), [SHOP, "javascript:alert(1)"]),
        )
