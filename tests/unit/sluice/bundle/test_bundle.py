"""`sluice bundle build / verify` on small DAG folders, good and deliberately broken."""

from __future__ import annotations

import json
import tarfile
import textwrap
from pathlib import Path

import pytest

from sluice.bundle.build import build_bundle
from sluice.bundle.verify import BundleError, verify_bundle

GOOD = """
    from datetime import datetime, timedelta
    from airflow.sdk import DAG
    from airflow.providers.standard.operators.empty import EmptyOperator

    ARGS = {"owner": "data-platform", "retries": 2, "retry_delay": timedelta(seconds=5)}
    DOC = "### Example\\n\\nTwo empty steps. No params. Not backfilled: it has no data."
    with DAG("{dag_id}", schedule=None, start_date=datetime(2026, 1, 1), default_args=ARGS,
             tags=["sluice"], doc_md=DOC) as dag:
        first = EmptyOperator(task_id="first")
        second = EmptyOperator(task_id="second")
        first >> second
"""


def project(tmp_path: Path, **files: str) -> Path:
    """A folder shaped like a checkout, with ``dags/<name>.py`` for each keyword."""
    root = tmp_path / "project"
    (root / "dags").mkdir(parents=True)
    for name, source in files.items():
        (root / "dags" / f"{name}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    return root


def built(tmp_path: Path, **files: str) -> Path:
    return build_bundle(project(tmp_path, **files), tmp_path / "dist", version="1.0.0").path


def test_a_good_bundle_carries_a_manifest_and_verifies(tmp_path):
    archive = built(tmp_path, good=GOOD.replace("{dag_id}", "good"))
    assert archive.name == "sluice-dags-1.0.0.tar.gz"
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
        assert set(tar.getnames()) == {"dags/good.py", "manifest.json"}
    assert manifest["version"] == "1.0.0"
    assert set(manifest["files"]) == {"dags/good.py"}
    assert len(manifest["files"]["dags/good.py"]) == 64  # a sha256
    verdict = verify_bundle(archive)
    assert verdict.ok, verdict.problems
    # Only that the import was timed: how long it took depends on the machine's load.
    assert verdict.dags == ["good"] and set(verdict.timings) == {"good.py"}


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("import no_such_module_anywhere\n", "import error: ModuleNotFoundError"),
        (GOOD.replace("first >> second", "first >> second >> first"), "Cycle detected"),
        (GOOD.replace('"owner": "data-platform", ', ""), "second: no named owner"),
        (GOOD.replace('"retries": 2, ', ""), "first: no retries"),
        (GOOD.replace('tags=["sluice"]', "tags=[]"), "broken: no tags"),
        ("import time\ntime.sleep(2.3)\n" + textwrap.dedent(GOOD), "import took"),
    ],
    ids=["import-error", "cycle", "no-owner", "no-retries", "no-tags", "slow-import"],
)
def test_a_broken_bundle_fails_verification_naming_the_problem(tmp_path, source, problem):
    archive = built(tmp_path, broken=source.replace("{dag_id}", "broken"))
    verdict = verify_bundle(archive)
    assert not verdict.ok
    assert any(problem in p for p in verdict.problems), verdict.problems


def test_a_tampered_bundle_is_refused(tmp_path):
    archive = built(tmp_path, good=GOOD.replace("{dag_id}", "good"))
    unpacked = tmp_path / "unpacked"
    with tarfile.open(archive) as tar:
        tar.extractall(unpacked, filter="data")
    (unpacked / "dags" / "good.py").write_text("# edited after the build\n", encoding="utf-8")
    tampered = tmp_path / "tampered.tar.gz"
    with tarfile.open(tampered, "w:gz") as tar:
        tar.add(unpacked / "dags", arcname="dags")
        tar.add(unpacked / "manifest.json", arcname="manifest.json")
    with pytest.raises(BundleError, match=r"good\.py does not match its manifest hash"):
        verify_bundle(tampered)


def test_an_archive_without_a_manifest_is_not_a_bundle(tmp_path):
    plain = tmp_path / "plain.tar.gz"
    with tarfile.open(plain, "w:gz") as tar:
        tar.add(project(tmp_path, good=GOOD) / "dags", arcname="dags")
    with pytest.raises(BundleError, match=r"no manifest\.json"):
        verify_bundle(plain)
