"""``sluice webhook add / list / remove / run``: subscribers to the change feed."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import click

from sluice.settings import Settings

log = logging.getLogger(__name__)


@contextmanager
def _engine(settings: Settings) -> Iterator:
    from sqlalchemy import create_engine

    from sluice.storage.postgres import sqlalchemy_url

    engine = create_engine(sqlalchemy_url(settings.postgres_writer_url), pool_pre_ping=True)
    try:
        yield engine
    finally:
        engine.dispose()


@click.group("webhook")
def webhook() -> None:
    """Webhooks: changes of prices and availability posted to your URL as they are recorded."""


@webhook.command("add")
@click.argument("url")
@click.option("--kinds", default="price,availability,new,discontinued", show_default=True,
              help="Comma-separated kinds of change to deliver.")  # fmt: skip
@click.option("--secret", help="The signing secret (default: a new random one, shown once).")
@click.pass_obj
def add_command(settings: Settings, url: str, kinds: str, secret: str | None) -> None:
    """Deliver changes recorded from now on to URL (http or https)."""
    from sluice.webhooks import subscriptions

    wanted = [k.strip() for k in kinds.split(",") if k.strip()]
    try:
        subscriptions.check_url(url)
        subscriptions.check_kinds(wanted)
    except subscriptions.WebhookError as exc:
        raise click.BadParameter(str(exc)) from exc
    with _engine(settings) as engine, engine.begin() as conn:
        hook = subscriptions.add(conn, url, wanted, secret)
        shown = subscriptions.secret_of(conn, hook.id)
    click.echo(f"webhook {hook.id}: {hook.url} ({','.join(hook.kinds)})")
    click.echo(
        f"signing secret (X-Sluice-Signature: sha256=HMAC of the body), shown only now: {shown}"
    )


@webhook.command("list")
@click.option("--all", "include_removed", is_flag=True, help="Removed webhooks too.")
@click.pass_obj
def list_command(settings: Settings, include_removed: bool) -> None:
    """Every webhook: its kinds, deliveries, failed attempts and dead letters."""
    from sluice.webhooks import subscriptions

    with _engine(settings) as engine, engine.connect() as conn:
        hooks = subscriptions.listed(conn, include_removed)
    click.echo(f"{'ID':>4}  {'DELIVERED':>9} {'FAILED':>6} {'DEAD':>5}  {'KINDS':<36} URL")
    for hook in hooks:
        state = "  (removed)" if hook.removed_at else ""
        click.echo(
            f"{hook.id:>4}  {hook.delivered:>9} {hook.failed_attempts:>6} {hook.dead_letters:>5}"
            f"  {','.join(hook.kinds):<36} {hook.url}{state}"
        )


@webhook.command("remove")
@click.argument("webhook_id", type=int)
@click.pass_obj
def remove_command(settings: Settings, webhook_id: int) -> None:
    """Stop delivering to webhook WEBHOOK_ID (its dead letters are kept)."""
    from sluice.webhooks import subscriptions

    with _engine(settings) as engine, engine.begin() as conn:
        try:
            subscriptions.remove(conn, webhook_id)
        except subscriptions.WebhookError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"webhook {webhook_id} removed")


@webhook.command("run")
@click.option("--once", is_flag=True, help="Deliver what is pending, then exit.")
@click.option("--poll", default=1.0, show_default=True, type=click.FloatRange(0.1, 60),
              help="Seconds between looks at the feed.")  # fmt: skip
@click.pass_obj
def run_command(settings: Settings, once: bool, poll: float) -> None:
    """Deliver the change feed to every webhook, until stopped (SIGTERM); run as many as you
    like: each webhook is delivered by one of them at a time."""
    from prometheus_client import CollectorRegistry
    from sqlalchemy.exc import OperationalError

    from sluice.cli.metrics import serve_or_exit
    from sluice.webhooks.delivery import Deliverer, Policy
    from sluice.webhooks.metrics import WebhookMetrics

    registry = CollectorRegistry()
    metrics = WebhookMetrics(registry)
    serve_or_exit(settings, registry)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    with _engine(settings) as engine:
        deliverer = Deliverer(engine, Policy.from_settings(settings), stopping)
        down = False
        while not stopping.is_set():
            try:
                tally = deliverer.deliver_all()
            except OperationalError as exc:
                if once:
                    raise click.ClickException(f"PostgreSQL unavailable: {exc.orig}") from exc
                if not down:
                    log.warning("PostgreSQL unavailable (%s); retrying every %.1fs", exc.orig, poll)
                down = True
            else:
                if down:
                    log.info("PostgreSQL reachable again; delivering")
                down = False
                metrics.count(tally)
                if tally.delivered or tally.dead_lettered:
                    log.info(
                        "delivered %d change(s), %d dead-lettered, %d failed attempt(s)",
                        tally.delivered,
                        tally.dead_lettered,
                        tally.failed_attempts,
                    )
                if once:
                    return
            stopping.wait(poll)
