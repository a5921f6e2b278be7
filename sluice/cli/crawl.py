"""``sluice crawl SPIDER --start-url URL``: one crawl, to completion, with live progress."""

from __future__ import annotations

import json
import signal
import sys
import time
from datetime import date

import click
import psycopg
import redis

from sluice.crawl import registry, runner, runs
from sluice.crawl.keys import CrawlKeys
from sluice.crawl.leases import LeasedQueue
from sluice.settings import Settings
from sluice.storage.postgres import connect
from sluice.storage.redis import client

#: a crawl's outcome as its crawl_runs status
RUN_STATUS = {"done": "finished", "partial": "partial", "failed": "failed"}


def record_run(settings: Settings, step: str, write) -> None:
    """Write the crawl's ``crawl_runs`` row; PostgreSQL being away costs the row, not the crawl."""
    try:
        with connect(settings.postgres_writer_url, autocommit=True) as conn:
            write(conn)
    except psycopg.Error as exc:
        click.echo(
            f"warning: could not {step} the run in crawl_runs ({str(exc).strip()}); the "
            "processors still record it when they store its items",
            err=True,
        )


def progress_line(status: registry.CrawlStatus, elapsed: float) -> str:
    """pages, items, queue, in flight, workers, drops — one line."""
    stats = status.stats
    dropped = sum(v for k, v in stats.items() if k.startswith("drop_item/"))
    return (
        f"{elapsed:6.1f}s  pages {stats.get('downloader/response_count', 0):>6}  "
        f"items {stats.get('kafka/delivered', 0):>6}  dropped {dropped:>4}  "
        f"queue {status.queued:>6}  in flight {status.in_flight:>4}  workers {status.workers}"
    )


def print_summary(report: dict) -> None:
    """The human summary."""
    outcome = {"done": "done", "partial": "PARTIAL", "failed": "FAILED"}[report["status"]]
    click.echo(f"crawl {report['crawl_id']} ({report['spider']}): {outcome}")
    click.echo(f"  pages      {report['pages']}")
    click.echo(
        f"  items      {report['items']} valid ({report['unchanged']} unchanged, sent as seen "
        f"notices), {report['published']} published to Kafka"
    )
    dropped = ", ".join(f"{k} {v}" for k, v in report["dropped"].items()) or "none"
    click.echo(f"  dropped    {dropped}")
    errors = ", ".join(f"{k} {v}" for k, v in report["errors"].items()) or "none"
    click.echo(f"  errors     {errors}")
    click.echo(
        f"  duplicates {report['duplicates_filtered']} filtered; retries {report['retries']}"
    )
    click.echo(f"  duration   {report['duration_s']}s")
    for reason, urls in report["failed_pages"].items():
        shown = ", ".join(urls[:5]) + (f" and {len(urls) - 5} more" if len(urls) > 5 else "")
        click.echo(f"  failed     {reason} {len(urls)}: {shown}")
    if report["failed_pages"]:
        click.echo(f"  retry them: sluice crawl retry {report['crawl_id']}")
    processed = report.get("processed")
    if processed and processed.get("ok"):
        click.echo(f"  processed  stored in MongoDB and PostgreSQL {processed['waited_s']}s later")
    for problem in report["problems"]:
        click.echo(f"  problem:   {problem}", err=True)


def wait_until_processed(settings: Settings, quiet: bool, timeout: float = 900.0) -> dict:
    """Wait until both processor groups have committed everything on the raw topics."""
    from processors.app import GROUPS, TOPICS, consumer_group
    from sluice.kafka.lag import group_lag

    began = time.monotonic()
    last_line = 0.0
    while True:
        lags = {g: group_lag(settings.kafka, consumer_group(g), TOPICS) for g in GROUPS}
        elapsed = time.monotonic() - began
        if not any(lags.values()):
            return {"ok": True, "waited_s": round(elapsed, 1)}
        if elapsed > timeout:
            return {
                "ok": False,
                "lag": lags,
                "problem": f"processors still behind after {timeout:.0f}s (lag {lags}); "
                "are they running? `sluice status`, or start them with `sluice process`",
            }
        if not quiet and elapsed - last_line >= 5:
            last_line = elapsed
            click.echo(f"waiting for the processors: lag {lags}", err=True)
        time.sleep(1.0)


class CrawlGroup(click.Group):
    """``sluice crawl SPIDER ...`` runs a crawl; ``sluice crawl gc`` and friends are subcommands.

    A first argument that names no subcommand is the spider of a crawl to run.
    """

    RUN = "run"

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Route ``sluice crawl SPIDER ...`` to the hidden ``run`` subcommand."""
        first = next((a for a in args if not a.startswith("-")), None)
        if args and args[0] not in ("--help", "-h") and first not in self.commands:
            args = [self.RUN, *args]
        return super().parse_args(ctx, args)


@click.group("crawl", cls=CrawlGroup)
def crawl() -> None:
    """Run a crawl (``sluice crawl SPIDER --start-url URL``), or manage crawls' Redis keys."""


@crawl.command("republish")
@click.argument("sources", nargs=-1, required=True)
@click.pass_obj
def republish(settings: Settings, sources: tuple[str, ...]) -> None:
    """Forget the fingerprints of SOURCES: their next crawl publishes every product whole
    (after the database was restored from an older backup, say)."""
    from sluice.crawl.fingerprints import Fingerprints

    memory = Fingerprints(client(settings.redis_url, decode=False, retries=5), 0)
    for source in sources:
        memory.forget(source)
    click.echo(f"the next crawl of {', '.join(sources)} publishes every product whole")


@crawl.command("gc")
@click.pass_obj
def gc(settings: Settings) -> None:
    """Drop the Redis keys of every ended crawl now (they expire after SLUICE_CRAWL_KEY_TTL)."""
    from sluice.crawl.retention import collect

    server = client(settings.redis_url, decode=False, retries=5)
    dropped = collect(server)
    click.echo(f"dropped the keys of {len(dropped)} ended crawl(s)")


@crawl.command(CrawlGroup.RUN, hidden=True)
@click.argument("spider")
@click.option("--start-url", "start_urls", multiple=True, required=True, help="Repeatable.")
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), help="Trade date (finance).")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@click.option("--crawl-id", help="Name the crawl (default: SPIDER-TIMESTAMP-RANDOM).")
@click.option("--wait-processed", is_flag=True, help="Also wait until the processors stored it.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("-s", "--set", "overrides", multiple=True, help="Scrapy setting NAME=VALUE.")
@click.pass_obj
def run_crawl(
    settings: Settings,
    spider: str,
    start_urls: tuple[str, ...],
    day: date | None,
    workers: int,
    crawl_id: str | None,
    wait_processed: bool,
    as_json: bool,
    overrides: tuple[str, ...],
) -> None:
    """Seed a crawl, run WORKERS worker processes until it is done, print a summary."""
    extra = dict(o.split("=", 1) for o in overrides if "=" in o)
    params = {"date": day.date().isoformat()} if day else {}
    try:
        seeded = runner.seed_crawl(settings, spider, list(start_urls), params, crawl_id)
    except (KeyError, ValueError) as exc:
        raise click.ClickException(str(exc).strip("'\"")) from exc
    except redis.RedisError as exc:
        raise click.ClickException(
            f"Redis at {settings.redis_url} does not answer ({exc}); run `sluice stack up`"
        ) from exc
    keys = CrawlKeys(seeded.crawl_id)
    record_run(
        settings,
        "register",
        lambda conn: runs.register(
            conn,
            seeded.crawl_id,
            spider,
            None,
            {**params, "start_urls": list(start_urls), "workers": workers},
        ),
    )
    if not as_json:
        click.echo(f"crawl {seeded.crawl_id}: {seeded.queued} start requests", err=True)
    work_to_the_end(settings, spider, keys, workers, extra, wait_processed, as_json)


@crawl.command("request")
@click.argument("spider")
@click.option("--start-url", "start_urls", multiple=True, required=True, help="Repeatable.")
@click.option("--max-pages", default=0, show_default=True, type=click.IntRange(0, 1_000_000))
@click.option("--date", "day", default=None, help="The day a dated spider crawls (YYYY-MM-DD).")
@click.pass_obj
def request(
    settings: Settings, spider: str, start_urls: tuple[str, ...], max_pages: int, day: str | None
) -> None:
    """Ask Airflow to crawl SPIDER from the start URLs now: publishes a crawl request on
    sluice.events, which starts a crawl_<SPIDER> run (through the crawl_requests DAG)."""
    from sluice.crawl.requests import CrawlRequestError, crawl_request_from, publish

    body = {"spider": spider, "start_urls": list(start_urls), "max_pages": max_pages, "date": day}
    try:
        wanted = crawl_request_from(body, requested_by="cli")
    except CrawlRequestError as exc:
        raise click.BadParameter(str(exc)) from exc
    try:
        publish(settings.kafka, wanted)
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"crawl request {wanted.request_id} published: {wanted.dag_id} will run it")


@crawl.command("retry")
@click.argument("crawl_id")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@click.option("--wait-processed", is_flag=True, help="Also wait until the processors stored it.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_obj
def retry(
    settings: Settings, crawl_id: str, workers: int, wait_processed: bool, as_json: bool
) -> None:
    """Queue the pages of CRAWL_ID that failed again and crawl just them (and what they link to
    that the crawl has not seen) to the end."""
    server = client(settings.redis_url, decode=False, retries=5)
    try:
        keys = CrawlKeys(crawl_id)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="CRAWL_ID") from exc
    status = registry.status(server, keys)
    if not status.spider:
        raise click.ClickException(
            f"crawl {crawl_id} has no record in Redis (never run here, or its keys expired "
            "after SLUICE_CRAWL_KEY_TTL)"
        )
    queued = registry.reopen(server, crawl_id)
    if not queued:
        raise click.ClickException(f"crawl {crawl_id} has no failed pages to retry")
    if not as_json:
        click.echo(f"crawl {crawl_id}: {queued} failed pages queued again", err=True)
    record_run(settings, "reopen", lambda conn: runs.reopen(conn, crawl_id))
    work_to_the_end(settings, status.spider, keys, workers, {}, wait_processed, as_json)


def work_to_the_end(
    settings: Settings,
    spider: str,
    keys: CrawlKeys,
    workers: int,
    extra: dict[str, str],
    wait_processed: bool,
    as_json: bool,
) -> None:
    """Run ``workers`` worker processes on the crawl until it is over, record and print its
    summary, and exit with its outcome (0 done, PARTIAL_EXIT partial, 1 failed)."""
    crawl_id = keys.crawl_id
    log_dir = settings.stack_dir / "logs" / "crawls" / crawl_id
    if not as_json:
        click.echo(f"crawl {crawl_id}: {workers} workers, logs in {log_dir}", err=True)
    began = time.monotonic()
    stamp = int(time.time())
    procs = [
        runner.start_worker(settings, spider, crawl_id, log_dir / f"worker-{stamp}-{i}.log", extra)
        for i in range(workers)
    ]
    interrupted = False

    def stop(*_: object) -> None:
        nonlocal interrupted
        interrupted = True
        for proc in procs:
            proc.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    server = client(settings.redis_url, decode=False, retries=20)
    live = sys.stderr.isatty() and not as_json
    last_line = 0.0
    while any(proc.poll() is None for proc in procs):
        time.sleep(0.5)
        elapsed = time.monotonic() - began
        if as_json or (not live and elapsed - last_line < 10):
            continue
        last_line = elapsed
        try:
            line = progress_line(registry.status(server, keys), elapsed)
        except redis.RedisError as exc:
            line = f"{elapsed:6.1f}s  (Redis unavailable: {exc})"
        click.echo(("\r" + line) if live else line, err=True, nl=not live)
    if live:
        click.echo("", err=True)
    report = runner.summary(
        registry.status(server, keys),
        time.monotonic() - began,
        [p.returncode for p in procs],
        LeasedQueue(server, keys).failures(),
    )
    if interrupted:
        report["ok"], report["status"] = False, "failed"
        report["problems"].insert(0, "interrupted; the crawl can be resumed by starting workers")
    if wait_processed and report["ok"]:
        report["processed"] = wait_until_processed(settings, as_json)
        if not report["processed"]["ok"]:
            report["ok"], report["status"] = False, "failed"
            report["problems"].append(report["processed"]["problem"])
    final = registry.status(server, keys).stats
    if not interrupted:
        registry.retire(server, crawl_id, settings.crawl_key_ttl)
    record_run(
        settings,
        "finalize",
        lambda conn: runs.finalize(conn, crawl_id, RUN_STATUS[report["status"]], final),
    )
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        print_summary(report)
    sys.exit({"done": 0, "partial": runner.PARTIAL_EXIT, "failed": 1}[report["status"]])
