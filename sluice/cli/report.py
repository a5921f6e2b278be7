"""``sluice report RUN_ID``: write one crawl run's HTML report and print where."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import click
import psycopg

from sluice.report import report_filename
from sluice.report.data import ReportError, load_report, reader
from sluice.report.files import default_path, write_page
from sluice.report.html import render
from sluice.settings import Settings


@click.command("report")
@click.argument("run_id")
@click.option(
    "--output",
    "-o",
    type=click.Path(),
    help="File to write, or a directory (existing, or ending in /) to write <crawl id>.html into "
    "[default: SLUICE_STACK_DIR/reports/<crawl id>.html].",
)
@click.pass_obj
def report(settings: Settings, run_id: str, output: str | None) -> None:
    """Write an HTML report of crawl run RUN_ID (its crawl id or its Airflow run id).

    The page is self-contained (inline CSS and SVG): a summary, the crawl's progress, its
    items by status and the price changes it saw. Prints the path of the file written.
    """
    try:
        conn = reader(settings.postgres_reader_url)
    except psycopg.OperationalError as exc:
        raise click.ClickException(
            f"PostgreSQL does not answer ({str(exc).strip()}); run `sluice stack up`"
        ) from exc
    try:
        with conn:
            found = load_report(conn, run_id)
    except ReportError as exc:
        raise click.ClickException(str(exc)) from exc
    except psycopg.errors.UndefinedTable as exc:
        raise click.ClickException(
            f"the database has no Sluice tables ({str(exc).strip()}); run `sluice migrate`"
        ) from exc
    except psycopg.Error as exc:
        raise click.ClickException(
            f"reading crawl run {run_id!r} from PostgreSQL failed: {str(exc).strip()}"
        ) from exc
    crawl_id = found.run.crawl_id
    if output is None:
        path = default_path(settings, crawl_id)
    elif output.endswith(("/", os.sep)) or Path(output).is_dir():
        path = Path(output) / report_filename(crawl_id)
    else:
        path = Path(output)
    try:
        write_page(path, render(found, generated_at=datetime.now(UTC)))
    except OSError as exc:
        raise click.ClickException(f"cannot write the report to {path}: {exc}") from exc
    click.echo(str(path))
