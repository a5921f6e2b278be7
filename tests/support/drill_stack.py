"""Faults injected into a stack's processes, through the stack's own supervisor.

A drill crashes a process the way a machine would (SIGKILL, no chance to clean up) and lets
supervisord restart it as it would in production; to keep a service down for a while, the
drill holds the restart back and starts the service again itself when the time is up.
"""

from __future__ import annotations

import os
import signal
import time
import xmlrpc.client
from dataclasses import dataclass
from pathlib import Path

from sluice.stack.supervisor import Supervisor
from tests.support.crawling import wait_for
from tests.support.scratch_stack import ScratchStack


@dataclass(frozen=True)
class Fault:
    """One crash: which program, its pid, and when (monotonic seconds)."""

    program: str
    pid: int
    at: float


class SupervisedStack:
    """The processes of one stack directory's supervisor, which a drill crashes and watches
    come back (the suite's own stack, for drills of the platform services only it runs)."""

    def __init__(self, stack_dir: Path) -> None:
        self.supervisor = Supervisor(stack_dir)

    def pid(self, program: str) -> int:
        """The pid of ``program`` (fails when it has no process: a process the supervisor still
        calls STARTING already works, and can crash)."""
        state = self.supervisor.states()[program]
        running = state.state in ("RUNNING", "STARTING") and state.pid
        assert running, f"{program} is {state.state}, not running"
        return state.pid

    def kill(self, program: str, sig: signal.Signals = signal.SIGKILL) -> Fault:
        """Send ``sig`` to ``program``'s whole process group (a crash takes its children too),
        once it has a process (after a crash the supervisor may be backing off)."""
        wait_for(
            lambda: self._state(program) in ("RUNNING", "STARTING"),
            60,
            interval=0.05,
            what=f"{program} to have a process to kill",
        )
        pid = self.pid(program)
        try:
            os.killpg(os.getpgid(pid), sig)
        except ProcessLookupError:
            os.kill(pid, sig)
        return Fault(program, pid, time.monotonic())

    def hold_down(self, fault: Fault) -> None:
        """Keep a crashed program from being restarted until :meth:`bring_back`."""
        wait_for(
            lambda: self._died(fault),
            30,
            interval=0.05,
            what=f"the supervisor to see {fault.program} die",
        )
        if self._state(fault.program) in ("RUNNING", "STARTING", "BACKOFF"):
            try:
                self.supervisor.rpc.stopProcess(fault.program)
            except xmlrpc.client.Fault as exc:  # it stopped meanwhile: NOT_RUNNING
                if "NOT_RUNNING" not in exc.faultString:
                    raise

    def _died(self, fault: Fault) -> bool:
        """The supervisor sees the crashed process gone: not running, or running again with
        another pid (one look at its state, which may change between two)."""
        state = self.supervisor.states()[fault.program]
        return state.state != "RUNNING" or state.pid != fault.pid

    def bring_back(self, program: str) -> None:
        """Start a held-down program again."""
        self.supervisor.rpc.startProcess(program, False)

    def wait_restarted(self, fault: Fault, timeout: float = 120) -> float:
        """Wait until the supervisor runs ``fault.program`` again as a new process; return
        the seconds since the fault."""
        wait_for(
            lambda: (
                self._state(fault.program) == "RUNNING"
                and self.supervisor.states()[fault.program].pid != fault.pid
            ),
            timeout,
            interval=0.1,
            what=f"the supervisor to restart {fault.program}",
        )
        return time.monotonic() - fault.at

    def wait_healthy(self, timeout: float = 120) -> None:
        """Wait until `sluice stack status` finds every data service answering."""
        wait_for(
            lambda: self.scratch.cli("stack", "status").returncode == 0,
            timeout,
            interval=1,
            what="every service of the drill stack to answer",
        )

    def _state(self, program: str) -> str:
        return self.supervisor.states()[program].state


class DrillStack(SupervisedStack):
    """A :class:`ScratchStack` whose processes the drills crash and watch come back."""

    def __init__(self, scratch: ScratchStack) -> None:
        super().__init__(Path(scratch.env["SLUICE_STACK_DIR"]))
        self.scratch = scratch
