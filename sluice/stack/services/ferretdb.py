"""The MongoDB-wire server of the native stack: FerretDB 1.24 on SQLite.

Compose and Helm run real MongoDB; locally a small Go wrapper around FerretDB's embeddable
package (``assets/ferretdb``) is built once from the Go module proxy into the cache.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

import pymongo.errors

from sluice.stack.progress import Progress
from sluice.stack.services.base import NotReady, Program, Service, require_executable
from sluice.storage.mongo import client

SOURCE_FILES = ("main.go", "go.mod", "go.sum")
#: FerretDB 1.24 needs Go 1.22; older Go (Debian 12 ships 1.19) fetches this toolchain instead.
MIN_GO = (1, 22)
TOOLCHAIN = "1.22.12"
GOARCH = {"x86_64": "amd64", "aarch64": "arm64"}
SLOG_LEVELS = {
    "DEBUG": "debug",
    "INFO": "info",
    "WARNING": "warn",
    "ERROR": "error",
    "CRITICAL": "error",
}
GO_FIX = (
    "install Go 1.22 or newer (`make deps` installs Debian's golang), then run `sluice stack up`"
)


def go_version(go: str) -> tuple[int, int]:
    """(major, minor) of the Go toolchain at ``go``; (0, 0) when it cannot tell."""
    out = subprocess.run([go, "env", "GOVERSION"], capture_output=True, text=True, check=False)
    match = re.match(r"go(\d+)\.(\d+)", out.stdout.strip())
    return (int(match.group(1)), int(match.group(2))) if match else (0, 0)


def _sources() -> dict[str, bytes]:
    folder = resources.files("sluice.stack") / "assets" / "ferretdb"
    return {name: (folder / name).read_bytes() for name in SOURCE_FILES}


class FerretDB(Service):
    """FerretDB serving the MongoDB wire protocol from ``.stack/ferretdb``."""

    name = "ferretdb"

    def __init__(self, settings) -> None:
        super().__init__(settings)
        parts = urlsplit(settings.mongo_url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 27017

    def listen_addresses(self) -> list[tuple[str, int]]:
        return [(self.host, self.port)]

    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def binary(self) -> Path:
        """The built server, named by a hash of its sources so an edit rebuilds it."""
        digest = hashlib.sha256(b"".join(_sources().values())).hexdigest()[:12]
        return self.cache_dir / f"sluice-ferretdb-{digest}"

    def install(self, progress: Progress) -> None:
        if self.binary.exists():
            return
        go = self._go(progress)
        build_dir = self.cache_dir / "src"
        shutil.rmtree(build_dir, ignore_errors=True)
        build_dir.mkdir(parents=True)
        for name, content in _sources().items():
            (build_dir / name).write_bytes(content)
        partial = self.binary.with_suffix(".partial")
        env = {**os.environ, "CGO_ENABLED": "0"}
        progress.run(
            self.name,
            "building FerretDB 1.24 from the Go module proxy",
            [go, "build", "-trimpath", "-o", str(partial), "."],
            expect="first run only, ~2 min",
            log_file=self.cache_dir / "build.log",
            fix=GO_FIX,
            cwd=build_dir,
            env=env,
        )
        partial.rename(self.binary)

    def _go(self, progress: Progress) -> str:
        """A Go of at least MIN_GO: the one on PATH, or a toolchain fetched through it."""
        go = require_executable(self.name, "go", "golang-go", "PATH")
        if go_version(go) >= MIN_GO:
            return go
        local = self.cache_dir / f"go{TOOLCHAIN}" / "bin" / "go"
        if local.exists():
            return str(local)
        arch = GOARCH.get(platform.machine(), platform.machine())
        module = f"golang.org/toolchain@v0.0.1-go{TOOLCHAIN}.linux-{arch}"
        work = self.cache_dir / "toolchain"
        work.mkdir(parents=True, exist_ok=True)
        (work / "go.mod").write_text("module toolchain\n\ngo 1.19\n", encoding="utf-8")
        listing = work / "download.json"
        progress.run(
            self.name,
            f"fetching the Go {TOOLCHAIN} toolchain",
            ["sh", "-c", f'"$0" mod download -json {module} > {listing}', go],
            expect="the installed Go is older than 1.22; first run only",
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

    def prepare(self, progress: Progress) -> None:
        (self.data_dir / "data").mkdir(parents=True, exist_ok=True)

    def program(self) -> Program:
        return Program(
            name=self.name,
            command=[
                str(self.binary),
                "-listen-addr",
                f"{self.host}:{self.port}",
                "-sqlite-dir",
                str((self.data_dir / "data").resolve()),
                "-log-level",
                SLOG_LEVELS[self.settings.log_level.upper()],
            ],
            directory=self.data_dir.resolve(),
            stopwaitsecs=30,
        )

    def check_ready(self) -> str:
        try:
            with client(self.settings.mongo_url, timeout=2) as conn:
                conn.admin.command("ping")
                version = conn.server_info().get("version", "?")
        except pymongo.errors.PyMongoError as exc:
            raise NotReady(str(exc).split(",")[0]) from exc
        return f"MongoDB wire {version} (FerretDB/SQLite)"
