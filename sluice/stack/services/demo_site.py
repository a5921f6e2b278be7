"""The bundled demo websites as a long-running platform service (`sluice demo-site`)."""

from __future__ import annotations

import sys
from urllib.parse import urlsplit

from sluice.stack.progress import Progress
from sluice.stack.services.base import Program, Service, http_ready


class DemoSite(Service):
    """The demo shop and market the crawlers run against offline."""

    name = "demo-site"

    def __init__(self, settings) -> None:
        super().__init__(settings)
        parts = urlsplit(settings.demo_site_url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 8000

    def listen_addresses(self) -> list[tuple[str, int]]:
        return [(self.host, self.port)]

    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def install(self, progress: Progress) -> None:
        """Nothing to install: the sites are part of Sluice."""

    def prepare(self, progress: Progress) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)

    def program(self) -> Program:
        return Program(
            name=self.name,
            command=[sys.executable, "-m", "sluice", "demo-site"],
            directory=self.settings.project_dir,
            stopwaitsecs=10,
        )

    def check_ready(self) -> str:
        http_ready(f"http://{self.host}:{self.port}/robots.txt", timeout=2)
        return f"demo shop {self.settings.demo_site_url}/shop/ and market /market/"
