"""``sluice check``: can this process reach every service with its settings?"""

from __future__ import annotations

import sys

import click

from sluice.probes import probe_all
from sluice.settings import Settings


@click.command("check")
@click.pass_obj
def check(settings: Settings) -> None:
    """Connect to PostgreSQL, Redis, Kafka and MongoDB as the services do; exit 1 on a problem.

    One line per service: what answered, or the cause (a wrong password, an untrusted or
    expired certificate, a plaintext client on a TLS port, nothing listening).
    """
    results = probe_all(settings)
    width = max(len(r.service) for r in results)
    for result in results:
        state = "ok" if result.ok else "FAILED"
        line = f"{result.service:<{width}}  {state:<6}  {result.address}  {result.detail}"
        click.echo(line)
    failed = [r.service for r in results if not r.ok]
    if failed:
        click.echo(f"sluice: cannot use {', '.join(failed)}", err=True)
        sys.exit(1)
