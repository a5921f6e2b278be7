"""Redis 7 from Debian's ``redis-server``, with the append-only file on.

The AOF is what lets crawl queues and leases survive a restart of the server.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from urllib.parse import unquote, urlsplit

import redis as redis_lib

from sluice.stack import secure
from sluice.stack.errors import StackError
from sluice.stack.progress import Progress
from sluice.stack.services.base import DEPS_FIX, NotReady, Program, Service, require_executable
from sluice.storage.redis import client

MIN_MAJOR = 7


class Redis(Service):
    """One Redis server, persisting to ``.stack/redis``."""

    name = "redis"

    def __init__(self, settings) -> None:
        super().__init__(settings)
        parts = urlsplit(settings.redis_url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 6379
        self.password = unquote(parts.password) if parts.password else None
        self.username = unquote(parts.username) if parts.username else None

    def listen_addresses(self) -> list[tuple[str, int]]:
        return [(self.host, self.port)]

    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def config_file(self):
        return self.data_dir / "redis.conf"

    def install(self, progress: Progress) -> None:
        binary = require_executable(
            self.name, self.settings.redis_server, "redis-server", "SLUICE_REDIS_SERVER"
        )
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False)
        match = re.search(r"v=(\d+)\.", out.stdout)
        if not match or int(match.group(1)) < MIN_MAJOR:
            raise StackError(
                self.name,
                f"{binary} is not Redis {MIN_MAJOR} or newer ({out.stdout.strip()!r})",
                f"{DEPS_FIX}, or set SLUICE_REDIS_SERVER to a Redis 7 binary",
            )

    def render_config(self) -> str:
        """The redis.conf the stack writes: loopback, AOF every second, logs to stdout.

        The secure stack serves TLS only, on the same port, and knows one ACL user (from
        the URL); the default user is off.
        """
        lines = [
            f"bind {self.host}",
            *self._listen_lines(),
            "protected-mode yes",
            "daemonize no",
            'logfile ""',
            f"dir {self.data_dir.resolve()}",
            "appendonly yes",
            "appendfsync everysec",
            "save 3600 1 300 100 60 10000",
        ]
        if self.username and self.password:
            lines += ["user default off", f"user {self.username} on >{self.password} ~* &* +@all"]
        elif self.password:
            lines.append(f"requirepass {self.password}")
        return "\n".join(lines) + "\n"

    def _listen_lines(self) -> list[str]:
        if not self.settings.stack_secure:
            return [f"port {self.port}"]
        certs = secure.certificates(self.settings.stack_dir)
        return [
            "port 0",
            f"tls-port {self.port}",
            f"tls-cert-file {certs.cert_file.resolve()}",
            f"tls-key-file {certs.key_file.resolve()}",
            f"tls-ca-cert-file {certs.ca_file.resolve()}",
            # Clients prove who they are with their ACL password, not a certificate.
            "tls-auth-clients no",
        ]

    def prepare(self, progress: Progress) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.config_file.write_text(self.render_config(), encoding="utf-8")
        self.config_file.chmod(0o600)

    def program(self) -> Program:
        return Program(
            name=self.name,
            # Resolved here, not in install(): the program must render the same for every
            # `up`, or supervisord would see a changed config and restart the server.
            command=[
                shutil.which(self.settings.redis_server) or self.settings.redis_server,
                str(self.config_file.resolve()),
            ],
            directory=self.data_dir.resolve(),
            stopwaitsecs=30,
        )

    def check_ready(self) -> str:
        try:
            conn = client(self.settings.redis_url, timeout=2)
            conn.ping()
            info = conn.info("server")
            persistence = conn.info("persistence")
        except redis_lib.RedisError as exc:
            raise NotReady(str(exc)) from exc
        if persistence.get("loading"):
            raise NotReady("loading the append-only file")
        aof = "on" if persistence.get("aof_enabled") else "OFF"
        return f"Redis {info.get('redis_version')} (aof {aof})"
