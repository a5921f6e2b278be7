"""``sluice api`` (serve the API with gunicorn) and ``sluice api-key create / list / revoke``."""

from __future__ import annotations

import os
import sys
from urllib.parse import urlsplit

import click

from sluice.cli.postgres import writer_connection
from sluice.settings import Settings


@click.command("api")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64))
@click.pass_obj
def api(settings: Settings, workers: int, threads: int) -> None:
    """Serve the API on SLUICE_API_URL with gunicorn (the app factory api.app:create_app)."""
    from api import limits

    address = urlsplit(settings.api_url)
    bind = f"{address.hostname or '127.0.0.1'}:{address.port or 5000}"
    argv = [
        sys.executable, "-m", "gunicorn", "api.app:create_app()",
        "--bind", bind, "--workers", str(workers), "--threads", str(threads),
        "--worker-class", "gthread", "--access-logfile", "-", "--graceful-timeout", "20",
        "--chdir", str(settings.project_dir),
        # Above the app's own limits, which answer in the JSON error envelope.
        "--limit-request-line", str(limits.SERVER_REQUEST_LINE),
        "--limit-request-field_size", str(limits.SERVER_HEADER_BYTES),
        "--limit-request-fields", str(limits.SERVER_HEADERS),
    ]  # fmt: skip
    # exec, so the supervisor's SIGTERM reaches gunicorn (which finishes requests in flight).
    os.execv(sys.executable, argv)  # noqa: S606


@click.group("api-key")
def api_key() -> None:
    """Manage API keys (stored hashed; sent as the X-API-Key header)."""


@api_key.command("create")
@click.argument("name")
@click.option("--rate-limit", default=600, show_default=True, type=click.IntRange(1, 1_000_000),
              help="Requests per minute.")  # fmt: skip
@click.option("--scope", "scopes", multiple=True,
              help="A write action the key may take, e.g. crawl:request (repeatable; an unknown "
                   "one is refused, naming the known ones); reading needs none.")  # fmt: skip
@click.pass_obj
def create_command(settings: Settings, name: str, rate_limit: int, scopes: tuple[str, ...]) -> None:
    """Create a key named NAME and print it (as the last word): it is shown only once."""
    from api import keys

    if not name.strip():
        raise click.BadParameter("must not be blank", param_hint="NAME")
    with writer_connection(settings) as conn:
        try:
            made = keys.create(conn, name, rate_limit, scopes)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
    allowed = f", may {', '.join(scopes)}" if scopes else ""
    click.echo(
        f"API key {name!r} ({rate_limit} requests/minute{allowed}), shown only now: {made.key}"
    )


@api_key.command("list")
@click.pass_obj
def list_command(settings: Settings) -> None:
    """Every key's name, prefix, limit, scopes and state."""
    from api import keys

    with writer_connection(settings) as conn:
        rows = keys.list_keys(conn)
    click.echo(
        f"{'NAME':<24} {'PREFIX':<14} {'LIMIT/MIN':>9}  {'CREATED':<20} {'SCOPES':<16} STATE"
    )
    for row in rows:
        state = f"revoked {row['revoked_at']:%Y-%m-%d %H:%M}" if row["revoked_at"] else "active"
        scopes = ",".join(row["scopes"]) or "-"
        click.echo(
            f"{row['name']:<24} {row['key_prefix']:<14} {row['rate_limit_per_minute']:>9}  "
            f"{row['created_at']:%Y-%m-%d %H:%M:%S}  {scopes:<16} {state}"
        )


@api_key.command("revoke")
@click.argument("name")
@click.pass_obj
def revoke_command(settings: Settings, name: str) -> None:
    """Revoke the key named NAME (requests with it get 401 at once)."""
    from api import keychecks, keys
    from sluice.storage.redis import client

    server = client(settings.redis_url, timeout=5.0)
    with writer_connection(settings) as conn:
        try:
            if not keys.revoke(conn, server, name):
                raise click.ClickException(f"no active API key named {name!r}")
        except keychecks.ChecksNotVoided as exc:
            raise click.ClickException(f"revoked {name!r} in PostgreSQL, but {exc}") from exc
    click.echo(f"revoked {name!r}")
