"""``sluice stack up / down / status / logs``: the native services as one unit."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass

from sluice.settings import Settings
from sluice.stack.errors import StackError, StackErrors
from sluice.stack.ports import port_holder, port_is_free
from sluice.stack.progress import Progress, tail
from sluice.stack.services import all_services, monitoring_services, platform_services
from sluice.stack.services.base import NotReady, Service
from sluice.stack.supervisor import Supervisor

log = logging.getLogger(__name__)

FAILED_STATES = {"FATAL", "EXITED", "BACKOFF", "STOPPED", "UNKNOWN"}


@dataclass(frozen=True)
class ServiceStatus:
    """One row of ``sluice stack status``."""

    name: str
    state: str  # what supervisord says, or "not running"
    healthy: bool
    address: str
    pid: int
    uptime: float
    detail: str


class Stack:
    """The data services of one checkout, run under one supervisord."""

    def __init__(
        self,
        settings: Settings,
        progress: Progress | None = None,
        platform: bool = False,
        monitoring: bool = False,
    ) -> None:
        self.settings = settings
        self.progress = progress or Progress()
        # supervisord knows every program either way, so `stack up` and `up` never fight over
        # its configuration; `platform` and `monitoring` only decide which ones this instance
        # manages (monitoring comes on top of the platform).
        data = all_services(settings)
        platform_part = platform_services(settings)
        monitoring_part = monitoring_services(settings)
        self.programs = [*data, *platform_part, *monitoring_part]
        self.services = [
            *data,
            *(platform_part if platform or monitoring else []),
            *(monitoring_part if monitoring else []),
        ]
        self.supervisor = Supervisor(settings.stack_dir)

    def monitoring_running(self) -> bool:
        """True when any monitoring service runs (so `sluice status` lists them)."""
        if not self.supervisor.is_running():
            return False
        names = {s.name for s in monitoring_services(self.settings)}
        states = self.supervisor.states()
        return any(states.get(n) and states[n].state == "RUNNING" for n in names)

    def select(
        self, names: Iterable[str] | None, pool: list[Service] | None = None
    ) -> list[Service]:
        """The services named (all when ``names`` is empty), in start order."""
        candidates = self.services if pool is None else pool
        wanted = list(names or [])
        known = {s.name: s for s in candidates}
        unknown = [n for n in wanted if n not in known]
        if unknown:
            raise StackError(
                ", ".join(unknown), "no such service", f"choose from {', '.join(known)}"
            )
        return [s for s in candidates if not wanted or s.name in wanted]

    # -- up --------------------------------------------------------------------------------
    def up(self, names: Iterable[str] | None = None) -> list[ServiceStatus]:
        """Install, prepare, start and health-check the services; idempotent."""
        selected = self.select(names)
        self._each(selected, lambda s: s.install(self.progress))
        running = {name for name, st in self.supervisor.states().items() if st.state == "RUNNING"}
        self._each([s for s in selected if s.name not in running], self._check_ports)
        self._each(selected, lambda s: s.prepare(self.progress))

        self.supervisor.write_config(s.program() for s in self.programs)
        self.supervisor.ensure_started()
        to_start = [s for s in selected if self.supervisor.states()[s.name].state != "RUNNING"]
        for service in to_start:
            self.progress.say(service.name, "starting")
            self.supervisor.start(service.name)
        self._wait_ready(selected)
        self._each(selected, lambda s: s.bootstrap(self.progress))
        return self.status(n.name for n in selected)

    def _each(self, services: list[Service], step) -> None:
        # Run one step for every service and report every failure together, not just the first.
        errors: list[StackError] = []
        for service in services:
            try:
                step(service)
            except StackError as exc:
                errors.append(exc)
        if len(errors) == 1:
            raise errors[0]
        if errors:
            raise StackErrors(errors)

    def _check_ports(self, service: Service) -> None:
        for host, port in service.listen_addresses():
            if port_is_free(host, port):
                continue
            holder = port_holder(port)
            by = f" by {holder}" if holder else ""
            env = {
                "postgres": "SLUICE_POSTGRES_URL (and the writer/reader URLs)",
                "redis": "SLUICE_REDIS_URL",
                "kafka": "SLUICE_KAFKA_BOOTSTRAP / SLUICE_KAFKA_CONTROLLER_PORT",
                "ferretdb": "SLUICE_MONGO_URL",
                "seaweedfs": "SLUICE_OBJECT_STORE_URL (it uses that port and the next three, "
                "and each plus 10000)",
                "demo-site": "SLUICE_DEMO_SITE_URL",
            }.get(service.name, "its address setting")
            raise StackError(
                service.name,
                f"port {host}:{port} is already in use{by}",
                f"stop that process (e.g. `systemctl stop {service.name}` for a system-wide "
                f"server), or move Sluice's {service.name} to a free port with {env} in .env",
            )

    def _wait_ready(self, services: list[Service]) -> None:
        pending = {s.name: s for s in services}
        reasons: dict[str, str] = {}
        begun = time.monotonic()
        last_report = begun
        while pending:
            states = self.supervisor.states()
            for name, service in list(pending.items()):
                state = states[name].state
                if state in FAILED_STATES:
                    raise self._start_failure(service, f"exited during start ({state})")
                try:
                    summary = service.check_ready()
                    if state != "RUNNING":
                        # supervisord has not yet seen it live for its startsecs.
                        raise NotReady(f"supervisor state {state}")
                except NotReady as exc:
                    reasons[name] = str(exc)
                    if time.monotonic() - begun > service.start_timeout:
                        raise self._start_failure(
                            service, f"not ready after {service.start_timeout:.0f}s: {exc}"
                        ) from exc
                    continue
                self.progress.say(name, f"ready: {summary}")
                del pending[name]
            if pending and time.monotonic() - last_report > 10:
                last_report = time.monotonic()
                for name in pending:
                    self.progress.say(name, f"  waiting ({reasons.get(name, 'starting')})")
            if pending:
                time.sleep(0.25)

    def _start_failure(self, service: Service, cause: str) -> StackError:
        lines = "\n    ".join(tail(service.log_file, 12)) or "(the log is empty)"
        return StackError(
            service.name,
            f"{cause}; last lines of {service.log_file}:\n    {lines}",
            f"read `sluice stack logs {service.name}`, fix the cause, run `sluice stack up`",
        )

    # -- down / status / logs ----------------------------------------------------------------
    def down(self, names: Iterable[str] | None = None) -> list[str]:
        """Stop the services (all: supervisord too); return the names that were stopped."""
        # Stopping everything stops what runs on top of the data services too.
        selected = self.select(names) if names else self.programs
        if not self.supervisor.is_running():
            return []
        states = self.supervisor.states()
        stopped = []
        # Reverse start order, so nothing outlives what it depends on.
        for service in reversed(selected):
            if states.get(service.name) and states[service.name].state in (
                "RUNNING",
                "STARTING",
                "BACKOFF",
            ):
                self.progress.say(service.name, "stopping")
                self.supervisor.stop(service.name)
                stopped.append(service.name)
        if not names:
            self.supervisor.shutdown()
        return stopped

    def status(self, names: Iterable[str] | None = None) -> list[ServiceStatus]:
        """Each service's supervisor state plus a live protocol check."""
        states = self.supervisor.states()
        rows = []
        for service in self.select(names):
            st = states.get(service.name)
            state = st.state if st else "not running"
            healthy, detail = False, "supervisor not running" if not st else st.description
            if st and st.state == "RUNNING":
                try:
                    detail, healthy = service.check_ready(), True
                except NotReady as exc:
                    detail = f"not answering: {exc}"
            rows.append(
                ServiceStatus(
                    name=service.name,
                    state=state,
                    healthy=healthy,
                    address=service.address(),
                    pid=st.pid if st else 0,
                    uptime=st.uptime if st else 0.0,
                    detail=detail,
                )
            )
        return rows

    def log_files(self, names: Iterable[str] | None = None) -> list:
        """The log file of each named service (any program the supervisor runs)."""
        return [s.log_file for s in self.select(names, pool=self.programs)]
