"""``sluice dag new NAME``: the file a data engineer starts a DAG of their own from.

The new ``dags/NAME.py`` already follows the house rules `sluice bundle verify` applies
(:mod:`sluice.bundle.inspect`): a named owner and retries through the shared default
arguments, tags, and a page in the UI that says what the DAG does, its params and whether to
backfill it.
"""

from __future__ import annotations

import keyword
import re
from pathlib import Path

#: a DAG name that is also a good module name: lower case, digits and underscores
NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")

TEMPLATE = '''"""Airflow DAG `{name}`: {description}"""

from airflow.sdk import DAG, task

from plugins.factories.defaults import START, default_args, tags

DOC = """### {name}

{description}

Params: none yet. Name each param you add here, like `day`, with what it changes.

Not backfilled: say here whether a run for a past date makes sense, and how to start a
backfill if it does.
"""

with DAG(
    dag_id="{name}",
    description={description!r},
    doc_md=DOC,
    schedule=None,
    start_date=START,
    catchup=False,
    default_args=default_args(),
    tags=tags("{name}"),
) as dag:

    @task
    def run() -> None:
        """The DAG's work: call library code in sluice/ (operators live in plugins/)."""

    run()
'''


class ScaffoldError(ValueError):
    """The DAG cannot be created; the message says why."""


def new_dag(dags_dir: Path, name: str, description: str) -> Path:
    """Write ``dags_dir/<name>.py``; refuse a name that is not a plain lower-case identifier
    or whose file already exists."""
    if not NAME.match(name) or keyword.iskeyword(name):
        raise ScaffoldError(
            f"{name!r} is not a DAG name: use lower case letters, digits and underscores, "
            "starting with a letter (e.g. crawl_archive)"
        )
    path = Path(dags_dir) / f"{name}.py"
    if path.exists():
        raise ScaffoldError(f"{path} already exists: choose another name or edit that file")
    # One line, and no quote that could end the docstring or the string it goes into.
    description = " ".join(description.split()).replace('"', "'") or "What this DAG does."
    path.write_text(TEMPLATE.format(name=name, description=description), encoding="utf-8")
    return path
