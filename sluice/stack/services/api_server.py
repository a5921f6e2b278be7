"""The Sluice API (`sluice api`, gunicorn) as a long-running platform service."""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from sluice.stack.progress import Progress
from sluice.stack.services.base import NotReady, Program, Service


class ApiServer(Service):
    """Products, quotes and crawls over HTTP; ready when ``/readyz`` says so."""

    name = "api"
    start_timeout = 60.0

    def listen_addresses(self) -> list[tuple[str, int]]:
        parts = urlsplit(self.settings.api_url)
        return [(parts.hostname or "127.0.0.1", parts.port or 5000)]

    def address(self) -> str:
        return self.settings.api_url

    def install(self, progress: Progress) -> None:
        """Nothing to install: the API is part of Sluice."""

    def prepare(self, progress: Progress) -> None:
        """Nothing to prepare: `sluice up` migrates before the API starts."""

    def program(self) -> Program:
        return Program(
            name=self.name,
            command=[sys.executable, "-m", "sluice", "api"],
            directory=self.settings.project_dir,
            stopwaitsecs=30,
            startsecs=2,
        )

    def check_ready(self) -> str:
        url = f"{self.settings.api_url.rstrip('/')}/readyz"
        try:
            with urllib.request.urlopen(url, timeout=3) as response:  # noqa: S310 - our URL
                json.load(response)
        except urllib.error.HTTPError as exc:
            raise NotReady(f"{url}: {exc.code} {exc.read()[:200]!r}") from exc
        except (OSError, ValueError) as exc:
            raise NotReady(f"{url}: {exc}") from exc
        return f"API {self.settings.api_url}/api/v1 (docs /api/v1/docs)"
