"""What every native service provides to the stack manager."""

from __future__ import annotations

import os
import shutil
import urllib.request
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path

from sluice.settings import Settings
from sluice.stack.errors import StackError
from sluice.stack.progress import Progress

DEPS_FIX = "run `make deps` (installs the Debian packages Sluice needs)"


@dataclass(frozen=True)
class Program:
    """How the supervisor runs one service."""

    name: str
    command: list[str]
    directory: Path
    user: str | None = None
    environment: dict[str, str] = field(default_factory=dict)
    stopsignal: str = "TERM"
    stopwaitsecs: int = 30
    startsecs: int = 1
    #: restarts of a process that dies before ``startsecs`` (then the supervisor gives up)
    startretries: int = 2


class NotReady(Exception):
    """The service does not answer through its protocol yet; the message says what failed."""


class Service(ABC):
    """A data service of the native stack.

    The manager calls, in order: :meth:`install` (binaries into the cache), :meth:`prepare`
    (data directory and config under ``.stack/``), then runs :meth:`program` under the
    supervisor, polls :meth:`check_ready`, and finally calls :meth:`bootstrap` (roles,
    databases, topics). Every step is idempotent.
    """

    name: str = ""
    #: how long a cold start may take before the stack gives up on it
    start_timeout: float = 60.0

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @property
    def data_dir(self) -> Path:
        """This service's folder under the stack directory."""
        return self.settings.stack_dir / self.name

    @property
    def log_file(self) -> Path:
        """Where the supervisor writes this service's output."""
        return self.settings.stack_dir / "logs" / f"{self.name}.log"

    @property
    def cache_dir(self) -> Path:
        """This service's folder in the install cache (outside the checkout)."""
        return self.settings.cache_dir / self.name

    @abstractmethod
    def listen_addresses(self) -> list[tuple[str, int]]:
        """The (host, port) pairs this service binds."""

    @abstractmethod
    def address(self) -> str:
        """The address clients use, for status output."""

    @abstractmethod
    def install(self, progress: Progress) -> None:
        """Make the binaries available; raise :class:`StackError` naming a missing package."""

    @abstractmethod
    def prepare(self, progress: Progress) -> None:
        """Create the data directory and configuration (first run only where it matters)."""

    @abstractmethod
    def program(self) -> Program:
        """The supervisor program that runs the service in the foreground."""

    @abstractmethod
    def check_ready(self) -> str:
        """Ask the service through its own protocol; return a one-line health summary.

        Raises :class:`NotReady` when it does not answer correctly.
        """

    def bootstrap(self, progress: Progress) -> None:  # noqa: B027 - optional step
        """Create what clients expect to exist (roles, databases, topics). Idempotent."""


def require_executable(service: str, executable: str, package: str, setting: str) -> str:
    """Resolve ``executable`` on PATH (or as a path) or raise a StackError naming the package."""
    found = shutil.which(executable)
    if found is None or not os.access(found, os.X_OK):
        raise StackError(
            service,
            f"`{executable}` was not found (Debian package {package} is missing)",
            f"{DEPS_FIX}, or point {setting} at an installed binary",
        )
    return found


def http_ready(url: str, timeout: float = 3.0) -> None:
    """GET ``url``; raise :class:`NotReady` naming it unless it answers 2xx/3xx."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - our URL
            response.read(64)
    except OSError as exc:  # URLError and HTTPError are OSErrors
        raise NotReady(f"{url}: {exc}") from exc
