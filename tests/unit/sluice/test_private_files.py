"""Private files: a file created once stays the first creator's, whole, when processes race."""

from __future__ import annotations

import multiprocessing
import stat

from sluice.airflow_local import load_secrets
from sluice.private_files import create_private_once


def test_the_second_creation_leaves_the_first_file_alone(tmp_path):
    path = tmp_path / "keys.json"
    results = (create_private_once(path, "first"), create_private_once(path, "second"))
    assert (
        results,
        path.read_text(),
        stat.S_IMODE(path.stat().st_mode),
        sorted(tmp_path.iterdir()),
    ) == (
        (True, False),
        "first",
        0o600,
        [path],
    )


def _secrets_of(home: str, out: multiprocessing.Queue) -> None:
    from pathlib import Path

    out.put(load_secrets(Path(home)).fernet_key)


def test_processes_loading_the_airflow_secrets_at_once_agree_on_one_set(tmp_path):
    # `make test` starts two pytest sessions at once on a fresh clone; each loads the keys.
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    workers = [context.Process(target=_secrets_of, args=(str(tmp_path), out)) for _ in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    keys = {out.get(timeout=5) for _ in workers}
    assert keys == {load_secrets(tmp_path).fernet_key}
