"""Load a folder of DAG files the way Airflow's dag-processor does, and judge every DAG.

Run as ``python -m sluice.bundle.inspect DIR`` in a fresh Airflow home (``verify`` does), it
prints one JSON report: import errors and seconds per file, and every rule a DAG breaks.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

#: Airflow's default owner: a task that still has it has no named owner
DEFAULT_OWNER = "airflow"
#: a DAG file slower than this to import slows every parse loop of the dag-processor
MAX_IMPORT_SECONDS = 2.0


def dag_problems(dag) -> list[str]:
    """What one DAG lacks: tags; a page in the UI (``doc_md``) that names each of its params
    and says how to backfill it; a named owner and retries on every task."""
    problems = []
    if not dag.tags:
        problems.append(f"{dag.dag_id}: no tags")
    doc = dag.doc_md or ""
    if not doc.strip():
        problems.append(f"{dag.dag_id}: no doc_md (its page in the UI)")
    else:
        for name in dag.params:
            if f"`{name}`" not in doc:
                problems.append(f"{dag.dag_id}: doc_md does not explain the param `{name}`")
        if "backfill" not in doc.lower():
            problems.append(f"{dag.dag_id}: doc_md does not say whether or how to backfill it")
    for task in dag.tasks:
        owner = (task.owner or "").strip()
        if not owner or owner == DEFAULT_OWNER:
            problems.append(f"{dag.dag_id}.{task.task_id}: no named owner (owner={owner!r})")
        if not task.retries:
            problems.append(f"{dag.dag_id}.{task.task_id}: no retries")
    return problems


def inspect_folder(folder: Path) -> dict:
    """Import every ``.py`` file of ``folder`` separately; report errors, timings and rules."""
    from airflow.dag_processing.dagbag import DagBag

    report: dict = {"files": {}, "dags": [], "problems": []}
    for path in sorted(folder.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        began = time.perf_counter()
        bag = DagBag(dag_folder=str(path), safe_mode=False)
        seconds = time.perf_counter() - began
        name = str(path.relative_to(folder))
        errors = {str(Path(k).relative_to(folder)): v for k, v in bag.import_errors.items()}
        report["files"][name] = {"seconds": round(seconds, 3), "dags": sorted(bag.dags)}
        for failed, trace in errors.items():
            last = trace.strip().splitlines()[-1] if trace.strip() else "import failed"
            report["problems"].append(f"{failed}: import error: {last}")
        if seconds > MAX_IMPORT_SECONDS:
            report["problems"].append(
                f"{name}: import took {seconds:.2f}s (limit {MAX_IMPORT_SECONDS:.0f}s)"
            )
        for dag in bag.dags.values():
            report["dags"].append(dag.dag_id)
            report["problems"].extend(dag_problems(dag))
    return report


def main() -> None:
    """Print the report of the folder named on the command line."""
    folder = Path(sys.argv[1]).resolve()
    # Warm the imports every file shares, so each file is timed on its own work only.
    import airflow.sdk  # noqa: F401

    print(json.dumps(inspect_folder(folder)))


if __name__ == "__main__":
    main()
