"""The offline checkers `make tools` installs, and broken copies of the files they check."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tool(settings) -> Callable[..., subprocess.CompletedProcess]:
    """Run a checker from the tools venv: ``tool("hadolint", "Dockerfile")``."""
    bin_dir = settings.cache_dir / "tools" / "venv" / "bin"

    def run(name: str, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
        executable = bin_dir / name
        assert executable.exists(), f"{executable} is missing: run `make tools`"
        return subprocess.run(
            [str(executable), *args],
            cwd=cwd or settings.project_dir,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    return run


@pytest.fixture
def broken_copy(settings, tmp_path) -> Callable[[str, str, str], Path]:
    """A copy of a project file with one text replaced (the replacement must apply)."""

    def make(relative: str, old: str, new: str) -> Path:
        text = (settings.project_dir / relative).read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {relative}"
        target = tmp_path / Path(relative).name
        target.write_text(text.replace(old, new, 1), encoding="utf-8")
        target.chmod((settings.project_dir / relative).stat().st_mode)
        return target

    return make
