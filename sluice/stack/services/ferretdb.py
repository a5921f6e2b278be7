"""The MongoDB-wire server of the native stack: FerretDB 1.24 on SQLite.

Compose and Helm run real MongoDB; locally a small Go wrapper around FerretDB's embeddable
package (``assets/ferretdb``) is built once from the Go module proxy into the cache.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pymongo.errors

from sluice.stack import secure
from sluice.stack.golang import GoBuild
from sluice.stack.progress import Progress
from sluice.stack.services.base import NotReady, Program, Service
from sluice.storage.mongo import client

#: A small wrapper module around FerretDB's embeddable package.
BUILD = GoBuild(
    asset="ferretdb",
    name="sluice-ferretdb",
    files=("main.go", "go.mod", "go.sum"),
    package=".",
    what="FerretDB 1.24",
    expect="first run only, ~2 min",
)
SLOG_LEVELS = {
    "DEBUG": "debug",
    "INFO": "info",
    "WARNING": "warn",
    "ERROR": "error",
    "CRITICAL": "error",
}


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
        """The built server (a new binary whenever its sources change)."""
        return BUILD.binary(self.cache_dir)

    def install(self, progress: Progress) -> None:
        BUILD.install(self.cache_dir, self.settings.cache_dir / "go", progress, self.name)

    def prepare(self, progress: Progress) -> None:
        (self.data_dir / "data").mkdir(parents=True, exist_ok=True)

    def _listen_options(self) -> list[str]:
        address = f"{self.host}:{self.port}"
        if not self.settings.stack_secure:
            return ["-listen-addr", address]
        certs = secure.certificates(self.settings.stack_dir)
        # TLS only: the plain listener is off, so a client without TLS is refused.
        return [
            "-listen-addr=",
            "-listen-tls",
            address,
            "-tls-cert-file",
            str(certs.cert_file.resolve()),
            "-tls-key-file",
            str(certs.key_file.resolve()),
        ]

    def program(self) -> Program:
        return Program(
            name=self.name,
            command=[
                str(self.binary),
                *self._listen_options(),
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
