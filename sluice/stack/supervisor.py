"""The stack's process supervisor: supervisord, configured and driven over its XML-RPC socket.

supervisord owns the service processes (start, stop with each one's signal, restart on
crash, per-service log files); Sluice only renders its configuration and talks to it.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
import time
import xmlrpc.client
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from supervisor.xmlrpc import SupervisorTransport

from sluice.stack.errors import StackError
from sluice.stack.services.base import Program

#: A Unix socket path longer than this does not fit in sockaddr_un.
MAX_SOCKET_PATH = 100


@dataclass(frozen=True)
class ProcessState:
    """What supervisord says of one program."""

    name: str
    state: str  # RUNNING, STOPPED, STARTING, BACKOFF, EXITED, FATAL, ...
    pid: int
    uptime: float
    description: str


def _quote(arg: str) -> str:
    # supervisord splits `command` with shlex; '%' must be doubled for its own expansion.
    escaped = arg.replace("%", "%%")
    if any(c in escaped for c in " \t\"'\\"):
        return "'" + escaped.replace("'", "'\"'\"'") + "'"
    return escaped


def render_config(stack_dir: Path, socket_path: Path, programs: Iterable[Program]) -> str:
    """The supervisord.conf for ``programs`` (none starts on its own: the stack starts them)."""
    logs = stack_dir / "logs"
    parts = [
        "; Written by `sluice stack up`; edits are overwritten.",
        "[unix_http_server]",
        f"file={socket_path}",
        "chmod=0700",
        "",
        "[supervisord]",
        f"logfile={logs / 'supervisord.log'}",
        "logfile_maxbytes=10MB",
        "logfile_backups=2",
        f"pidfile={stack_dir / 'supervisord.pid'}",
        f"childlogdir={logs}",
        f"directory={stack_dir}",
        "identifier=sluice",
        "",
        "[rpcinterface:supervisor]",
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
        "",
        "[supervisorctl]",
        f"serverurl=unix://{socket_path}",
        "",
    ]
    for program in programs:
        parts += [
            f"[program:{program.name}]",
            "command=" + " ".join(_quote(arg) for arg in program.command),
            f"directory={program.directory}",
            "autostart=false",
            "autorestart=unexpected",
            f"startsecs={program.startsecs}",
            f"startretries={program.startretries}",
            f"stopsignal={program.stopsignal}",
            f"stopwaitsecs={program.stopwaitsecs}",
            "stopasgroup=true",
            "killasgroup=true",
            "redirect_stderr=true",
            f"stdout_logfile={logs / (program.name + '.log')}",
            "stdout_logfile_maxbytes=20MB",
            "stdout_logfile_backups=2",
        ]
        if program.user:
            parts.append(f"user={program.user}")
        if program.environment:
            env = ",".join(f'{k}="{v}"' for k, v in sorted(program.environment.items()))
            parts.append(f"environment={env}")
        parts.append("")
    return "\n".join(parts)


def socket_path_for(stack_dir: Path) -> Path:
    """The control socket: inside the stack directory unless that path is too long."""
    candidate = stack_dir.resolve() / "supervisor.sock"
    if len(str(candidate)) <= MAX_SOCKET_PATH:
        return candidate
    digest = hashlib.sha256(str(candidate).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"sluice-{digest}.sock"


class Supervisor:
    """supervisord for one stack directory."""

    def __init__(self, stack_dir: Path) -> None:
        self.stack_dir = stack_dir.resolve()
        self.config_file = self.stack_dir / "supervisord.conf"
        self.socket_path = socket_path_for(self.stack_dir)

    def _proxy(self) -> xmlrpc.client.ServerProxy:
        transport = SupervisorTransport(None, None, f"unix://{self.socket_path}")
        return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport)

    @property
    def rpc(self):
        """The ``supervisor.*`` XML-RPC namespace."""
        return self._proxy().supervisor

    def is_running(self) -> bool:
        """True when supervisord answers on its socket."""
        if not self.socket_path.exists():
            return False
        try:
            return self.rpc.getState()["statename"] == "RUNNING"
        except (OSError, xmlrpc.client.Error):
            return False

    def write_config(self, programs: Iterable[Program]) -> bool:
        """Write supervisord.conf; return True when it changed."""
        (self.stack_dir / "logs").mkdir(parents=True, exist_ok=True)
        text = render_config(self.stack_dir, self.socket_path, programs)
        if self.config_file.exists() and self.config_file.read_text(encoding="utf-8") == text:
            return False
        self.config_file.write_text(text, encoding="utf-8")
        return True

    def ensure_started(self, timeout: float = 15.0) -> None:
        """Start supervisord (it daemonizes) unless it already runs; apply config changes."""
        if self.is_running():
            self._apply_config_changes()
            return
        self.socket_path.unlink(missing_ok=True)
        result = subprocess.run(
            [sys.executable, "-m", "supervisor.supervisord", "-c", str(self.config_file)],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise StackError(
                "supervisor",
                f"supervisord did not start: {(result.stderr or result.stdout).strip()[-400:]}",
                f"read {self.stack_dir / 'logs' / 'supervisord.log'}",
            )
        deadline = time.monotonic() + timeout
        while not self.is_running():
            if time.monotonic() > deadline:
                raise StackError(
                    "supervisor",
                    f"supervisord did not answer on {self.socket_path} within {timeout:.0f}s",
                    f"read {self.stack_dir / 'logs' / 'supervisord.log'}",
                )
            time.sleep(0.1)

    def _apply_config_changes(self) -> None:
        # The same steps as `supervisorctl update`: changed programs restart with new settings.
        added, changed, removed = self.rpc.reloadConfig()[0]
        running = {n for n, st in self.states().items() if st.state == "RUNNING"}
        for name in removed + changed:
            self.stop(name)
            self.rpc.removeProcessGroup(name)
        for name in added + changed:
            self.rpc.addProcessGroup(name)
        # A changed program that was running keeps running, whoever asked for the change.
        for name in changed:
            if name in running:
                self.start(name)

    def states(self) -> dict[str, ProcessState]:
        """Every program's state (empty when supervisord is not running)."""
        if not self.is_running():
            return {}
        return {
            info["name"]: ProcessState(
                name=info["name"],
                state=info["statename"],
                pid=info["pid"],
                uptime=max(0, info["now"] - info["start"]) if info["pid"] else 0.0,
                description=info["description"],
            )
            for info in self.rpc.getAllProcessInfo()
        }

    def start(self, name: str) -> None:
        """Ask supervisord to start ``name`` without waiting for it."""
        try:
            self.rpc.startProcess(name, False)
        except xmlrpc.client.Fault as fault:
            if "ALREADY_STARTED" not in fault.faultString:
                raise

    def stop(self, name: str) -> None:
        """Stop ``name`` and wait until it has exited (its stopwaitsecs at most)."""
        try:
            self.rpc.stopProcess(name, True)
        except xmlrpc.client.Fault as fault:
            if "NOT_RUNNING" not in fault.faultString and "BAD_NAME" not in fault.faultString:
                raise

    def shutdown(self, timeout: float = 30.0) -> None:
        """Stop supervisord itself (after the programs have been stopped)."""
        if not self.is_running():
            return
        self.rpc.shutdown()
        deadline = time.monotonic() + timeout
        while self.socket_path.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
