"""``sluice airflow ARGS``: the ``airflow`` command, pointed at the local Airflow."""

from __future__ import annotations

import os
import sys

import click

from sluice.airflow_local import airflow_environment, airflow_home, load_secrets
from sluice.settings import Settings


@click.command(
    "airflow",
    context_settings={"ignore_unknown_options": True, "help_option_names": []},
    add_help_option=False,
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.pass_obj
def airflow(settings: Settings, args: tuple[str, ...]) -> None:
    """Run ``airflow ARGS`` with the local Airflow's configuration and connections.

    e.g. ``sluice airflow dags list`` or ``sluice airflow tasks test crawl_finance seed``.
    The supervisor starts the Airflow components this way too.
    """
    env = {**os.environ, **airflow_environment(settings, load_secrets(airflow_home(settings)))}
    # exec, so the supervisor's signals reach Airflow itself.
    os.execve(sys.executable, [sys.executable, "-m", "airflow", *args], env)  # noqa: S606
