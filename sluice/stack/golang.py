"""A Go toolchain new enough to build Sluice's Go parts (FerretDB, the deployment checkers).

Debian 12 ships Go 1.19; when the Go on PATH is older than MIN_GO, the toolchain module is
fetched once through that Go's module proxy into the cache. ``python -m sluice.stack.golang``
prints the path of a suitable ``go`` for shell scripts.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from sluice.stack.progress import Progress
from sluice.stack.services.base import require_executable

#: helm 3.17 needs Go 1.23 and FerretDB 1.24 needs 1.22: one toolchain serves both.
MIN_GO = (1, 23)
TOOLCHAIN = "1.24.4"
GOARCH = {"x86_64": "amd64", "aarch64": "arm64"}
GO_FIX = "install Go 1.23 or newer (`make deps` installs Debian's golang, which fetches one)"


def go_version(go: str) -> tuple[int, int]:
    """(major, minor) of the Go toolchain at ``go``; (0, 0) when it cannot tell."""
    out = subprocess.run([go, "env", "GOVERSION"], capture_output=True, text=True, check=False)
    match = re.match(r"go(\d+)\.(\d+)", out.stdout.strip())
    return (int(match.group(1)), int(match.group(2))) if match else (0, 0)


def ensure_go(cache_dir: Path, progress: Progress, service: str = "go") -> str:
    """A Go of at least MIN_GO: the one on PATH, or a toolchain under ``cache_dir``."""
    go = require_executable(service, "go", "golang-go", "PATH")
    if go_version(go) >= MIN_GO:
        return go
    local = cache_dir / f"go{TOOLCHAIN}" / "bin" / "go"
    if local.exists():
        return str(local)
    arch = GOARCH.get(platform.machine(), platform.machine())
    module = f"golang.org/toolchain@v0.0.1-go{TOOLCHAIN}.linux-{arch}"
    work = cache_dir / "toolchain"
    work.mkdir(parents=True, exist_ok=True)
    (work / "go.mod").write_text("module toolchain\n\ngo 1.19\n", encoding="utf-8")
    listing = work / "download.json"
    progress.run(
        service,
        f"fetching the Go {TOOLCHAIN} toolchain",
        ["sh", "-c", f'"$0" mod download -json {module} > {listing}', go],
        expect="the installed Go is too old; first run only",
        log_file=work / "download.log",
        fix=GO_FIX,
        cwd=work,
        env={**os.environ, "GOFLAGS": "-modcacherw"},
    )
    source = Path(json.loads(listing.read_text(encoding="utf-8"))["Dir"])
    staging = local.parent.parent.with_suffix(".partial")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(source, staging)
    # Module zips carry no file modes: make the toolchain's programs executable again.
    for folder in (staging / "bin", *(staging / "pkg" / "tool").glob("*")):
        for tool in folder.iterdir():
            tool.chmod(0o755)
    staging.rename(local.parent.parent)
    return str(local)


@dataclass(frozen=True)
class GoBuild:
    """A Go program built from a module shipped in ``sluice/stack/assets/<asset>``.

    The binary's name carries a hash of the module's files, so a new pin builds a new binary
    and an unchanged one is never rebuilt.
    """

    asset: str
    #: the binary's name, before the hash of the sources
    name: str
    files: tuple[str, ...]
    #: what `go build` builds inside the module: "." or an imported package's path
    package: str
    what: str
    expect: str

    def sources(self) -> dict[str, bytes]:
        """The module's files, from the installed package."""
        folder = resources.files("sluice.stack") / "assets" / self.asset
        return {name: (folder / name).read_bytes() for name in self.files}

    def binary(self, cache_dir: Path) -> Path:
        """Where the build for these sources lives in ``cache_dir``."""
        digest = hashlib.sha256(b"".join(self.sources().values())).hexdigest()[:12]
        return cache_dir / f"{self.name}-{digest}"

    def install(self, cache_dir: Path, go_cache: Path, progress: Progress, service: str) -> Path:
        """Build the binary unless it exists; return its path."""
        binary = self.binary(cache_dir)
        if binary.exists():
            return binary
        go = ensure_go(go_cache, progress, service)
        build_dir = cache_dir / "src"
        shutil.rmtree(build_dir, ignore_errors=True)
        build_dir.mkdir(parents=True)
        for name, content in self.sources().items():
            (build_dir / name).write_bytes(content)
        partial = binary.with_suffix(".partial")
        progress.run(
            service,
            f"building {self.what} from the Go module proxy",
            [go, "build", "-trimpath", "-o", str(partial), self.package],
            expect=self.expect,
            log_file=cache_dir / "build.log",
            fix=GO_FIX,
            cwd=build_dir,
            env={**os.environ, "CGO_ENABLED": "0", "GOFLAGS": "-mod=mod -modcacherw"},
        )
        partial.rename(binary)
        return binary


def main() -> int:
    """Print the path of a suitable ``go``; progress and errors go to stderr."""
    from sluice.settings import load_settings
    from sluice.stack.errors import StackError

    try:
        print(ensure_go(load_settings().cache_dir / "go", Progress()))
    except StackError as exc:
        print(exc.describe(), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
