"""``sluice reprocess``: rebuild PostgreSQL rows for a time range from the MongoDB raw archive."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import click

from sluice.settings import Settings


class Moment(click.ParamType):
    """An ISO 8601 date or date-time; one without a zone is read as UTC."""

    name = "ISO-TIME"

    def convert(self, value, param, ctx) -> datetime:
        if isinstance(value, datetime):
            moment = value
        else:
            try:
                moment = datetime.fromisoformat(str(value).strip())
            except ValueError:
                self.fail(
                    f"{value!r} is not an ISO 8601 date or time (e.g. 2026-11-01 or "
                    "2026-11-01T06:00:00Z)",
                    param,
                    ctx,
                )
        # Airflow data intervals and the archive are in UTC; a local reading would shift days.
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@click.command("reprocess")
@click.option("--start", required=True, type=Moment(), help="Fetched at or after (UTC).")
@click.option("--end", required=True, type=Moment(), help="Fetched before (UTC), exclusive.")
@click.option("--schema", help="Only envelopes of this item schema (e.g. product/1).")
@click.option("--source", help="Only envelopes of this source (e.g. shop.localhost).")
@click.option("--batch-size", default=500, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--json", "as_json", is_flag=True, help="Print the run's figures as JSON.")
@click.pass_obj
def reprocess(
    settings: Settings,
    start: datetime,
    end: datetime,
    schema: str | None,
    source: str | None,
    batch_size: int,
    as_json: bool,
) -> None:
    """Rebuild rows of envelopes fetched in [START, END) from MongoDB raw_items.

    Each archived envelope goes through the normalizer's validation and upserts again, so
    rerunning a range changes no row; refused envelopes are recorded in rejected_items.
    """
    from processors.reprocess import ReprocessError, reprocess_with_settings

    if end <= start:
        raise click.BadParameter(
            f"{end.isoformat()} is not after --start {start.isoformat()}", param_hint="--end"
        )
    try:
        stats = reprocess_with_settings(
            settings, start, end, batch_size=batch_size, schema=schema, source=source
        )
    except ReprocessError as exc:
        raise click.ClickException(f"{exc} (check the stores: `sluice stack status`)") from exc
    if as_json:
        click.echo(
            json.dumps(
                {
                    "start": start.isoformat(),
                    "end": end.isoformat(),
                    "schema": schema,
                    "source": source,
                    **stats.as_dict(),
                },
                indent=2,
            )
        )
        return
    click.echo(
        f"[{start.isoformat()}, {end.isoformat()}): {stats.read} raw items read, "
        f"{stats.written} stored, {stats.rejected} rejected, {stats.skipped} skipped"
    )
    for label, counts in (
        ("rejected", stats.rejections_by_reason),
        ("skipped", stats.skipped_by_reason),
    ):
        for reason, count in sorted(counts.items()):
            click.echo(f"  {label} {reason}: {count}")
