"""``sluice up / down / status``: the whole platform.

The platform is the data stack, the database migrations, the processors, the spider worker
pool, the demo sites, the API and Airflow (api-server, scheduler, dag-processor, triggerer),
all under one supervisor.
"""

from __future__ import annotations

import dataclasses

import click

from sluice.cli.migrate import migrate_command
from sluice.cli.source import demo_sources_command
from sluice.cli.stack import down_command, secure_settings, status_command, up_command
from sluice.retention import describe_policy
from sluice.settings import Settings
from sluice.stack.manager import Stack


def monitoring_running(settings: Settings) -> bool:
    """True when `sluice up --with-monitoring` started the monitoring services."""
    return Stack(settings, monitoring=True).monitoring_running()


@click.command("up")
@click.option(
    "--with-monitoring",
    is_flag=True,
    help="Also run Prometheus with the alert rules, the exporters and statsd_exporter.",
)
@click.option(
    "--secure",
    is_flag=True,
    help="TLS and passwords on every service, plaintext refused (stays on for this stack).",
)
@click.option(
    "--auth",
    type=click.Choice(["simple", "fab"]),
    help="Airflow's auth manager: simple (one admin) or fab (users and Sluice's roles); "
    "default SLUICE_AIRFLOW_AUTH.",
)
@click.argument("parts", nargs=-1)
@click.pass_obj
def up(
    settings: Settings,
    with_monitoring: bool,
    secure: bool,
    auth: str | None,
    parts: tuple[str, ...],
) -> None:
    """Start the whole platform (or only PARTS, e.g. `sluice up normalizer archiver`, on top of
    the data services) and wait until every part is healthy."""
    settings = secure_settings(settings, secure)
    if auth:
        settings = dataclasses.replace(settings, airflow_auth=auth)
    # Processors need the schema: data services first, then migrations, then the rest.
    up_command(settings, (), platform=False, table=False)
    migrate_command(settings)
    # The platform serves the demo sites: scheduled crawls start from them until told otherwise.
    demo_sources_command(settings)
    up_command(settings, parts, platform=True, monitoring=with_monitoring)
    if parts:
        return
    # The local default login is shown; a password someone chose never is.
    password = settings.airflow_password
    shown = password if password == Settings.airflow_password else "SLUICE_AIRFLOW_PASSWORD"
    click.echo(
        f"Airflow UI: {settings.airflow_url} (login {settings.airflow_user} / {shown}; "
        "set SLUICE_AIRFLOW_PASSWORD to change it)"
    )
    if with_monitoring:
        click.echo(
            f"Prometheus: {settings.prometheus_url} (alerts at {settings.prometheus_url}/alerts)"
        )


@click.command("down")
@click.pass_obj
def down(settings: Settings) -> None:
    """Stop the whole platform."""
    down_command(settings, (), platform=True)


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_obj
def status(settings: Settings, as_json: bool) -> None:
    """Show every part's state and health, and how long each store keeps its data; exit 3
    if any part is down."""
    if not as_json:
        # Printed first: the table's command exits non-zero when a part is down.
        click.echo("retention (sluice retention prunes; the retention DAG daily):")
        for line in describe_policy(settings):
            click.echo(f"  {line}")
    status_command(settings, (), as_json, platform=True, monitoring=monitoring_running(settings))
