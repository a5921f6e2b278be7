"""``sluice stack``: the data services alone (PostgreSQL, Redis, Kafka, MongoDB wire)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from urllib.parse import urlsplit

import click

from sluice.settings import Settings, load_settings
from sluice.stack import secure
from sluice.stack.errors import StackError, StackErrors
from sluice.stack.manager import ServiceStatus, Stack

#: exit code of `status` when a service is not healthy (as `systemctl status` uses 3)
EXIT_UNHEALTHY = 3


def run_stack(settings: Settings, action, platform: bool = False, monitoring: bool = False):
    """Run ``action(stack)`` and turn stack errors into one readable message and exit 1."""
    try:
        return action(Stack(settings, platform=platform, monitoring=monitoring))
    except (StackError, StackErrors) as exc:
        click.echo(f"sluice: {exc.describe()}", err=True)
        sys.exit(1)


def print_status(rows: list[ServiceStatus], as_json: bool) -> None:
    """The status table (or JSON objects, one per service)."""
    if as_json:
        click.echo(json.dumps([row.__dict__ for row in rows], indent=2))
        return
    width = max([len("SERVICE"), *(len(row.name) for row in rows)])
    click.echo(
        f"{'SERVICE':<{width}} {'STATE':<12} {'HEALTH':<8} {'ADDRESS':<24} {'PID':>7} "
        f"{'UPTIME':>8}  DETAIL"
    )
    for row in rows:
        health = "healthy" if row.healthy else "DOWN"
        uptime = f"{row.uptime:.0f}s" if row.pid else "-"
        click.echo(
            f"{row.name:<{width}} {row.state:<12} {health:<8} {row.address:<24} "
            f"{row.pid or '-':>7} {uptime:>8}  {row.detail}"
        )


def secure_settings(settings: Settings, wanted: bool) -> Settings:
    """``settings`` in secure mode once it is on (``--secure`` or SLUICE_STACK_SECURE).

    The first time, the CA, certificates and passwords are made and the settings layer that
    keeps the mode on is written; the settings are then read again through it.
    """
    if not (wanted or settings.stack_secure):
        return settings
    hosts = sorted(
        {
            urlsplit(url).hostname or "127.0.0.1"
            for url in (settings.postgres_url, settings.redis_url, settings.mongo_url)
        }
        | {address.rsplit(":", 1)[0] for address in settings.kafka_bootstrap.split(",")}
    )
    secure.enable(settings.stack_dir, hosts)
    return load_settings(
        {**os.environ, "SLUICE_STACK_SECURE": "true"}, project_dir=settings.project_dir
    )


def up_command(
    settings: Settings,
    services: tuple[str, ...],
    platform: bool = False,
    table: bool = True,
    monitoring: bool = False,
) -> None:
    """Shared body of `sluice up` and `sluice stack up` (``table``: print the status table)."""
    begun = time.monotonic()
    rows = run_stack(settings, lambda s: s.up(services), platform, monitoring)
    if table:
        print_status(rows, as_json=False)
        click.echo(
            f"ready in {time.monotonic() - begun:.1f}s; data and logs in {settings.stack_dir}"
        )


def status_command(
    settings: Settings,
    services: tuple[str, ...],
    as_json: bool,
    platform: bool = False,
    monitoring: bool = False,
) -> None:
    """Shared body of `sluice status` and `sluice stack status`."""
    rows = run_stack(settings, lambda s: s.status(services), platform, monitoring)
    print_status(rows, as_json)
    if not all(row.healthy for row in rows):
        sys.exit(EXIT_UNHEALTHY)


def down_command(settings: Settings, services: tuple[str, ...], platform: bool = False) -> None:
    """Shared body of `sluice down` and `sluice stack down`."""
    stopped = run_stack(settings, lambda s: s.down(services), platform)
    click.echo(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running")


@click.group()
def stack() -> None:
    """Run the data services natively (no Docker): data and logs under .stack/."""


@stack.command("up")
@click.argument("services", nargs=-1)
@click.option(
    "--secure",
    is_flag=True,
    help="TLS and passwords on every service, plaintext refused (stays on for this stack).",
)
@click.pass_obj
def stack_up(settings: Settings, services: tuple[str, ...], secure: bool) -> None:
    """Install what is missing, start SERVICES (default: all) and wait until healthy."""
    up_command(secure_settings(settings, secure), services)


@stack.command("down")
@click.argument("services", nargs=-1)
@click.pass_obj
def stack_down(settings: Settings, services: tuple[str, ...]) -> None:
    """Stop SERVICES (default: all, and the supervisor)."""
    down_command(settings, services)


@stack.command("status")
@click.argument("services", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_obj
def stack_status(settings: Settings, services: tuple[str, ...], as_json: bool) -> None:
    """Show each service's state and a live health check; exit 3 if any is down."""
    status_command(settings, services, as_json)


@stack.command("logs")
@click.argument("service", required=False)
@click.option("-n", "--lines", default=50, show_default=True, help="Lines to show per log.")
@click.option("-f", "--follow", is_flag=True, help="Keep printing new lines.")
@click.pass_obj
def stack_logs(settings: Settings, service: str | None, lines: int, follow: bool) -> None:
    """Show the last lines of SERVICE's log (default: every service's)."""
    files = run_stack(settings, lambda s: s.log_files([service] if service else None))
    existing = [str(f) for f in files if f.exists()]
    if not existing:
        raise click.ClickException(
            f"no log yet for {service or 'any service'} in {settings.stack_dir}/logs "
            "(run `sluice stack up` first)"
        )
    tail_bin = shutil.which("tail")
    if tail_bin is None:
        raise click.ClickException("`tail` (coreutils) is needed to show logs")
    argv = [tail_bin, "-n", str(lines), *(["-F"] if follow else []), *existing]
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how `logs -f` ends
        subprocess.run(argv, check=False)


@stack.command("reset")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def stack_reset(settings: Settings, yes: bool) -> None:
    """Stop the stack and delete all its data and logs (.stack/)."""
    if not yes:
        click.confirm(f"Delete every database, topic and log in {settings.stack_dir}?", abort=True)
    run_stack(settings, lambda s: s.down(None))
    for path in settings.stack_dir.iterdir() if settings.stack_dir.exists() else []:
        # .stack/postgres may be a link to data kept where the postgres user can reach it.
        if path.is_symlink():
            shutil.rmtree(path.resolve(), ignore_errors=True)
            path.unlink()
        elif path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
    click.echo(f"removed the stack's data in {settings.stack_dir}")
