"""``sluice dag new NAME``: start a DAG of your own in dags/."""

from __future__ import annotations

import click

from sluice.settings import Settings


@click.group()
def dag() -> None:
    """Write DAGs of your own."""


@dag.command("new")
@click.argument("name")
@click.option("--description", default="", help="One line: what the DAG does.")
@click.pass_obj
def new_command(settings: Settings, name: str, description: str) -> None:
    """Create dags/NAME.py, ready for `sluice bundle build` and `sluice bundle verify`."""
    from sluice.bundle.scaffold import ScaffoldError, new_dag

    try:
        path = new_dag(settings.project_dir / "dags", name, description)
    except ScaffoldError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"created {path}: edit its task and its doc_md, then `sluice bundle verify`")
