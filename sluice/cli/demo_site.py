"""``sluice demo-site``: serve the bundled demo shop and market."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

import click

from sluice.settings import Settings


@click.command("demo-site")
@click.option("--host", help="Default: the host of SLUICE_DEMO_SITE_URL.")
@click.option("--port", type=int, help="Default: the port of SLUICE_DEMO_SITE_URL.")
@click.option("--seed", default=7, show_default=True, help="Same seed, same sites.")
@click.option("--day", type=click.DateTime(["%Y-%m-%d"]), help="Day whose prices are shown.")
@click.pass_obj
def demo_site(
    settings: Settings, host: str | None, port: int | None, seed: int, day: datetime | None
) -> None:
    """Serve the demo shop (/shop/) and market (/market/) until interrupted."""
    from demo.server import serve

    address = urlsplit(settings.demo_site_url)
    serve(
        host=host or address.hostname or "127.0.0.1",
        port=port or address.port or 8000,
        seed=seed,
        day=day.date() if day else None,
    )
