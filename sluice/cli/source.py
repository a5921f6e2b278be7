"""``sluice source add / list / enable / disable / sync``: the sources registry scheduled crawls
start from."""

from __future__ import annotations

import json
from typing import IO

import click

from sluice import sources
from sluice.cli.postgres import writer_connection
from sluice.settings import Settings


@click.group("source")
def source() -> None:
    """The sites scheduled crawl_<SPIDER> runs start from (runs without start URLs of their own
    crawl every enabled source of their spider)."""


@source.command("add")
@click.argument("name")
@click.option("--spider", required=True, help="The Sluice spider that crawls it (ecommerce, ...).")
@click.option("--start-url", "start_urls", multiple=True, help="http(s) URL; repeatable.")
@click.pass_obj
def add_command(settings: Settings, name: str, spider: str, start_urls: tuple[str, ...]) -> None:
    """Register the source NAME (a slug); its name must be free."""
    try:
        new = sources.make_source(name, spider, start_urls)
        with writer_connection(settings) as conn:
            added = sources.add(conn, new)
    except sources.SourceError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"source {added.name!r} added: {added.spider} from {' '.join(added.start_urls)}")


@source.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (a sync file, with timestamps).")
@click.pass_obj
def list_command(settings: Settings, as_json: bool) -> None:
    """Every source, by name."""
    with writer_connection(settings) as conn:
        found = sources.list_sources(conn)
    if as_json:
        click.echo(json.dumps([s.to_json() for s in found], indent=2))
        return
    click.echo(f"{'NAME':<24} {'SPIDER':<12} {'ENABLED':<8} {'UPDATED':<17} START URLS")
    for row in found:
        click.echo(
            f"{row.name:<24} {row.spider:<12} {'yes' if row.enabled else 'no':<8} "
            f"{row.updated_at:%Y-%m-%d %H:%M} {' '.join(row.start_urls)}"
        )


def _set_enabled(settings: Settings, name: str, enabled: bool) -> None:
    with writer_connection(settings) as conn:
        try:
            changed = sources.set_enabled(conn, name, enabled)
        except sources.SourceError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"source {changed.name!r} {'enabled' if enabled else 'disabled'}")


@source.command("enable")
@click.argument("name")
@click.pass_obj
def enable_command(settings: Settings, name: str) -> None:
    """Crawl the source NAME again on its spider's schedule."""
    _set_enabled(settings, name, True)


@source.command("disable")
@click.argument("name")
@click.pass_obj
def disable_command(settings: Settings, name: str) -> None:
    """Stop crawling the source NAME on schedule (it stays registered)."""
    _set_enabled(settings, name, False)


@source.command("sync")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.pass_obj
def sync_command(settings: Settings, file: IO[str]) -> None:
    """Register the sources of FILE exactly as given ('-': standard input).

    FILE is a JSON list of {"name": ..., "spider": ..., "start_urls": [...], "enabled": true}
    ("enabled" may be left out: true). Sources are added or updated, all or none; a source
    not in FILE is left alone, never deleted.
    """
    try:
        # The whole file is checked before anything is written.
        wanted = sources.parse(file.read(), origin=file.name)
        with writer_connection(settings) as conn:
            report = sources.sync(conn, wanted)
    except sources.SourceError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"synced {file.name}: "
        + "; ".join(
            f"{what} {', '.join(names) if names else 'none'}"
            for what, names in (
                ("added", report.added),
                ("changed", report.changed),
                ("unchanged", report.unchanged),
            )
        )
    )


def demo_sources_command(settings: Settings) -> None:
    """Register the demo sites' sources that are missing (`sluice up` serves those sites); a
    registered one is left as it is, so a demo source someone disabled stays disabled."""
    with writer_connection(settings) as conn:
        added = sources.add_missing(conn, sources.demo_sources(settings.demo_site_url))
    if added:
        click.echo(f"demo sources registered: {', '.join(added)} (see `sluice source list`)")
