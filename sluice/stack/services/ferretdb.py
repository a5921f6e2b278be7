"""The MongoDB-wire server of the native stack: FerretDB 1.24 on SQLite.

Compose and Helm run real MongoDB; locally a small Go wrapper around FerretDB's embeddable
package (``assets/ferretdb``) is built once from the Go module proxy into the cache.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

import pymongo.errors

from sluice.stack.golang import GO_FIX, ensure_go
from sluice.stack.progress import Progress
from sluice.stack.services.base import NotReady, Program, Service
from sluice.storage.mongo import client

SOURCE_FILES = ("main.go", "go.mod", "go.sum")
SLOG_LEVELS = {
    "DEBUG": "debug",
    "INFO": "info",
    "WARNING": "warn",
    "ERROR": "error",
    "CRITICAL": "error",
}


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
        go = ensure_go(self.settings.cache_dir / "go", progress, self.name)
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
