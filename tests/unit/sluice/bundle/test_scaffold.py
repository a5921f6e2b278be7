"""`sluice dag new NAME` writes a DAG that `sluice bundle verify` accepts as it is."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from sluice.bundle.build import build_bundle
from sluice.bundle.scaffold import ScaffoldError, new_dag
from sluice.bundle.verify import verify_bundle
from sluice.cli.main import cli


def test_a_new_dag_passes_bundle_verification_as_written(tmp_path):
    (tmp_path / "dags").mkdir()
    new_dag(tmp_path / "dags", "crawl_archive", 'Copies the "raw" archive\nsomewhere safe.')
    verdict = verify_bundle(build_bundle(tmp_path, tmp_path / "dist", "1.0.0").path)
    assert (verdict.problems, verdict.dags) == ([], ["crawl_archive"])


@pytest.mark.parametrize("name", ["Crawl", "2fast", "with-dash", "class", "", "a" * 64])
def test_a_name_that_is_not_a_plain_identifier_is_refused(tmp_path, name):
    with pytest.raises(ScaffoldError, match="is not a DAG name"):
        new_dag(tmp_path, name, "")


def test_the_command_refuses_to_overwrite_a_dag(settings, monkeypatch, tmp_path):
    (tmp_path / "dags").mkdir()
    (tmp_path / "dags" / "mine.py").write_text("# someone's work\n")
    monkeypatch.setenv("SLUICE_PROJECT_DIR", str(tmp_path))
    result = CliRunner().invoke(cli, ["dag", "new", "mine"])
    kept = (tmp_path / "dags" / "mine.py").read_text()
    assert (result.exit_code, "already exists" in result.output, kept) == (
        1,
        True,
        "# someone's work\n",
    )
