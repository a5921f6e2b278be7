"""``sluice dlq list / show / redrive``: rejected records and their re-drive."""

from __future__ import annotations

import json
from datetime import datetime

import click

from sluice.cli.postgres import writer_connection
from sluice.settings import Settings


@click.group()
def dlq() -> None:
    """Inspect rejected records and send them back through the processors."""


@dlq.command("list")
@click.option("--reason", help="Exact reason or its prefix (e.g. invalid_item).")
@click.option("--since", type=click.DateTime(), help="Rejected at or after (UTC).")
@click.option("--pending", is_flag=True, help="Only records not re-driven yet.")
@click.option("--limit", default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def list_command(
    settings: Settings,
    reason: str | None,
    since: datetime | None,
    pending: bool,
    limit: int,
    as_json: bool,
) -> None:
    """Rejected records, oldest first."""
    from processors.redrive import list_rejected

    with writer_connection(settings) as conn:
        rows = list_rejected(conn, reason, since, pending, limit)
    if as_json:
        click.echo(json.dumps(rows, default=str, indent=2))
        return
    click.echo(f"{'ID':>6} {'REJECTED AT':<20} {'REASON':<34} {'ORIGIN':<28} ERROR")
    for row in rows:
        origin = f"{row['topic']}[{row['partition']}]@{row['offset']}"
        when = row["rejected_at"].strftime("%Y-%m-%d %H:%M:%S")
        mark = " (re-driven)" if row["redriven_at"] else ""
        click.echo(
            f"{row['id']:>6} {when:<20} {row['reason']:<34} {origin:<28} "
            f"{(row['error'] or '')[:60]}{mark}"
        )


@dlq.command("show")
@click.argument("item_id", type=int)
@click.pass_obj
def show_command(settings: Settings, item_id: int) -> None:
    """One rejected record: where it came from, why, and its payload."""
    from processors.redrive import show_rejected

    with writer_connection(settings) as conn:
        row = show_rejected(conn, item_id)
    if row is None:
        raise click.ClickException(f"no rejected record {item_id}")
    payload = row.pop("payload")
    text = row.pop("text", None)
    click.echo(json.dumps(row, default=str, indent=2))
    click.echo("payload:")
    click.echo(
        text if text is not None else f"({len(payload)} bytes, not UTF-8) {bytes(payload)[:200]!r}"
    )


@dlq.command("redrive")
@click.option("--reason", help="Only this reason (or prefix).")
@click.option("--since", type=click.DateTime(), help="Only records rejected since (UTC).")
@click.option("--limit", default=10_000, show_default=True)
@click.pass_obj
def redrive_command(
    settings: Settings, reason: str | None, since: datetime | None, limit: int
) -> None:
    """Send matching records back to their original topics (after a fix)."""
    from processors.redrive import redrive
    from sluice.kafka.producer import make_producer

    producer = make_producer(settings.kafka, **{"client.id": "sluice-redrive"})
    with writer_connection(settings) as conn:
        try:
            result = redrive(conn, producer, reason, since, limit)
        except RuntimeError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(
        f"re-drove {result.sent} records"
        + (f" (ids {result.ids[0]}..{result.ids[-1]})" if result.ids else "")
    )
