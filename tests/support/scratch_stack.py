"""A second native stack on ports of its own, beside the checkout's: for the secure-mode
tests and for the fault drills, which crash its services without disturbing the suite's stack.

It is started as a user starts one (`sluice stack up [--secure]`, `sluice up PARTS`) in a
folder of its own; every command and setting of a test reaches it through
:attr:`ScratchStack.env`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from sluice.settings import Settings, load_settings
from tests.support.network import free_port, free_port_block


@dataclass(frozen=True)
class ScratchStack:
    """Where the scratch stack runs: the variables that point a process at it."""

    env: dict[str, str]

    @classmethod
    def on_free_ports(cls, stack_dir: Path, block_start: int = 21000) -> ScratchStack:
        """Addresses on ports nothing listens on now, data in ``stack_dir``; the object store
        and the metrics ports take blocks from ``block_start`` up."""
        pg, redis, kafka, controller, mongo, api, demo = (free_port() for _ in range(7))
        objects = free_port_block(4, start=block_start)
        metrics = free_port_block(4, also=0, start=block_start + 1000)
        database = f"127.0.0.1:{pg}"
        return cls(
            {
                "SLUICE_STACK_DIR": str(stack_dir),
                "SLUICE_POSTGRES_URL": f"postgresql://sluice:sluice@{database}/sluice",
                "SLUICE_POSTGRES_WRITER_URL": (
                    f"postgresql://sluice_writer:sluice_writer@{database}/sluice"
                ),
                "SLUICE_POSTGRES_READER_URL": (
                    f"postgresql://sluice_reader:sluice_reader@{database}/sluice"
                ),
                "SLUICE_AIRFLOW_DB_URL": f"postgresql://airflow:airflow@{database}/airflow",
                "SLUICE_REDIS_URL": f"redis://127.0.0.1:{redis}/0",
                "SLUICE_KAFKA_BOOTSTRAP": f"127.0.0.1:{kafka}",
                "SLUICE_KAFKA_CONTROLLER_PORT": str(controller),
                "SLUICE_MONGO_URL": f"mongodb://127.0.0.1:{mongo}/sluice",
                "SLUICE_API_URL": f"http://127.0.0.1:{api}",
                "SLUICE_BACKUP_DIR": str(stack_dir / "backups"),
                "SLUICE_OBJECT_STORE_URL": f"http://127.0.0.1:{objects}",
                "SLUICE_DEMO_SITE_URL": f"http://127.0.0.1:{demo}",
                "SLUICE_METRICS_BASE_PORT": str(metrics),
            }
        )

    def environment(self, component: str, overrides: dict[str, str]) -> dict[str, str]:
        """This process's environment pointed at the stack, as ``component``, with ``overrides``
        (settings by name)."""
        env = {**os.environ, **self.env, **_variables(overrides)}
        if component:
            env["SLUICE_COMPONENT"] = component
        return env

    def settings(self, component: str = "", **overrides: str) -> Settings:
        """The settings a process of ``component`` (spider, processor, airflow) would load.

        ``overrides`` are settings by name (``postgres_sslmode="disable"``).
        """
        env = self.environment(component, overrides)
        return load_settings(env)

    def cli(
        self, *args: str, component: str = "", timeout: float = 300, **overrides: str
    ) -> subprocess.CompletedProcess:
        """Run ``sluice ARGS`` against this stack as ``component`` (``overrides``: settings)."""
        env = self.environment(component, overrides)
        return subprocess.run(
            [str(Path(sys.executable).with_name("sluice")), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def popen(
        self, *args: str, log: Path, component: str = "", **overrides: str
    ) -> subprocess.Popen:
        """Start ``sluice ARGS`` against this stack in the background, output to ``log``."""
        env = self.environment(component, overrides)
        with log.open("w") as out:
            return subprocess.Popen(
                [str(Path(sys.executable).with_name("sluice")), *args],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )


def _variables(overrides: dict[str, str]) -> dict[str, str]:
    return {f"SLUICE_{name.upper()}": value for name, value in overrides.items()}
