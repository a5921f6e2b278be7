"""The offline checkers `make tools` and `make deps` install (promtool comes with Debian's
prometheus package), and broken copies of the files they check."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tool(settings) -> Callable[..., subprocess.CompletedProcess]:
    """Run a checker `make tools` installed: ``tool("hadolint", "Dockerfile")``.

    The tools' own directories come first on PATH, so a checker that calls another (actionlint
    runs shellcheck on `run:` steps) finds the pinned one.
    """
    folders = [settings.cache_dir / "tools" / "venv" / "bin", settings.cache_dir / "tools" / "bin"]
    path = os.pathsep.join([*map(str, folders), os.environ.get("PATH", "")])

    def run(
        name: str, *args: str, cwd: Path | None = None, stdin: str | None = None
    ) -> subprocess.CompletedProcess:
        found = [folder / name for folder in folders if (folder / name).exists()]
        assert found, f"{name} is not in {', '.join(map(str, folders))}: run `make tools`"
        return subprocess.run(
            [str(found[0]), *args],
            cwd=cwd or settings.project_dir,
            input=stdin,
            env={**os.environ, "PATH": path},
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


@pytest.fixture(scope="session")
def promtool() -> str:
    """promtool of Debian's prometheus package (`make deps` installs it)."""
    found = shutil.which("promtool")
    assert found, "promtool is missing: `make deps` installs Debian's prometheus package"
    return found
