"""`sluice report` without a database: a clear error, no traceback, no file."""

from __future__ import annotations

from click.testing import CliRunner

from sluice.cli.main import cli
from sluice.report.files import default_path
from sluice.settings import load_settings


def test_an_unreachable_database_is_a_clear_error(tmp_path):
    # Nothing listens on port 1: the connection is refused at once.
    result = CliRunner().invoke(
        cli,
        ["report", "any-run", "--output", str(tmp_path / "x.html")],
        env={"SLUICE_POSTGRES_READER_URL": "postgresql://sluice_reader:x@127.0.0.1:1/sluice"},
    )
    assert result.exit_code == 1
    assert "PostgreSQL does not answer" in result.output
    assert "sluice stack up" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not (tmp_path / "x.html").exists()


def test_the_default_path_is_under_the_stack_dir(tmp_path):
    settings = load_settings({"SLUICE_STACK_DIR": str(tmp_path)}, project_dir=tmp_path)
    assert (
        default_path(settings, "ecommerce-1/../x") == tmp_path / "reports" / "ecommerce-1_.._x.html"
    )
