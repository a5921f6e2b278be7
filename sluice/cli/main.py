"""Entry point of the ``sluice`` command: settings once, then one subcommand."""

from __future__ import annotations

import logging

import click

from sluice import __version__
from sluice.cli.airflow import airflow
from sluice.cli.api import api, api_key
from sluice.cli.backup import backup
from sluice.cli.bundle import bundle
from sluice.cli.check import check
from sluice.cli.crawl import crawl
from sluice.cli.dag import dag
from sluice.cli.demo_site import demo_site
from sluice.cli.dlq import dlq
from sluice.cli.exporter import exporter
from sluice.cli.migrate import migrate
from sluice.cli.platform import down, status, up
from sluice.cli.process import process
from sluice.cli.report import report
from sluice.cli.reprocess import reprocess
from sluice.cli.retention import retention
from sluice.cli.source import source
from sluice.cli.stack import stack
from sluice.cli.webhook import webhook
from sluice.cli.worker import worker
from sluice.connections import RedactSecrets, secrets_of
from sluice.settings import SettingsError, load_settings


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sluice")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Sluice: crawl the web with Airflow and Scrapy, stream through Kafka, serve with Flask."""
    try:
        settings = load_settings()
    except SettingsError as exc:
        raise click.ClickException(f"configuration: {exc}") from exc
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    # Every handler masks the passwords of the settings, whoever logs them.
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactSecrets(secrets_of(settings)))
    ctx.obj = settings


cli.add_command(stack)
cli.add_command(airflow)
cli.add_command(api)
cli.add_command(api_key)
cli.add_command(backup)
cli.add_command(bundle)
cli.add_command(check)
cli.add_command(crawl)
cli.add_command(dag)
cli.add_command(demo_site)
cli.add_command(exporter)
cli.add_command(process)
cli.add_command(report)
cli.add_command(reprocess)
cli.add_command(retention)
cli.add_command(source)
cli.add_command(dlq)
cli.add_command(migrate)
cli.add_command(up)
cli.add_command(down)
cli.add_command(status)
cli.add_command(worker)
cli.add_command(webhook)
