"""Fixtures shared by every test layer.

Integration and end-to-end tests talk to the real services that `sluice stack up` runs. The
``stack`` fixture starts the stack itself (idempotent: seconds when it already runs); a stack
that cannot start fails every test that needs it with the stack's own message, never skips.
"""

from __future__ import annotations

import contextlib
import os
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sluice import sources as sluice_sources
from sluice.settings import Settings, load_settings
from sluice.stack.errors import StackError, StackErrors
from sluice.stack.manager import Stack
from sluice.stack.progress import Progress
from tests.support.scratch_rows import scratch  # noqa: F401 - a fixture for DAG tests in several folders
from tests.support.scratch_stack import ScratchStack
from tests.support.sources import registered, strangers
from tests.support.streams import APART, PLATFORM, select
from tests.support.sweep import SessionSweep, SweepResult

# What the session's sweep removed, for the closing summary.
_swept: list[SweepResult] = []


def pytest_addoption(parser: pytest.Parser) -> None:
    """The suite's options: the fault drills' size, a stream, a shuffled order."""
    parser.addoption(
        "--drill-size",
        type=int,
        default=5_000,
        help="messages in each fault drill's stream (make drills: 100,000)",
    )
    parser.addoption(
        "--stream",
        choices=(PLATFORM, APART),
        help="run only this stream's tests (make test runs both at once; see "
        "tests/support/streams.py)",
    )
    parser.addoption(
        "--shuffle",
        type=int,
        metavar="SEED",
        help="run the modules, and the tests in each, in an order shuffled with SEED (to show "
        "that no test needs another to have run first)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep one stream's tests when ``--stream`` names one; shuffle the collected tests when
    ``--shuffle SEED`` asks for it."""
    if stream := config.getoption("--stream"):
        select(config, items, stream)
    seed = config.getoption("--shuffle")
    if seed is None:
        return
    rng = random.Random(seed)
    modules: dict[str, list[pytest.Item]] = {}
    for item in items:
        modules.setdefault(str(item.path), []).append(item)
    order = list(modules)
    rng.shuffle(order)
    shuffled = []
    for module in order:
        tests = modules[module]
        rng.shuffle(tests)
        shuffled += tests
    items[:] = shuffled


@pytest.fixture(scope="session")
def settings() -> Settings:
    """The settings a developer's `sluice` command would use (environment and .env)."""
    return load_settings()


@pytest.fixture(scope="session")
def stack(settings: Settings) -> Iterator[Stack]:
    """The running native stack of this checkout; when the session ends, what the session
    created on it is swept away (:mod:`tests.support.sweep`)."""
    running = Stack(settings, progress=Progress())
    try:
        running.up()
    except (StackError, StackErrors) as exc:
        pytest.fail(f"the native stack did not start:\n{exc.describe()}", pytrace=False)
    sweep = SessionSweep(settings)
    yield running
    _swept.append(sweep.finish())


def _run_sluice(
    *args: str, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess:
    command = Path(sys.executable).with_name("sluice")
    return subprocess.run(
        [str(command), *args],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="session")
def sluice_cli():
    """Run the `sluice` command as a user would: ``sluice_cli("stack", "status")``."""
    return _run_sluice


@pytest.fixture(scope="session")
def secure_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ScratchStack]:
    """A second stack, started by `sluice stack up --secure` on ports of its own, migrated."""
    running = ScratchStack.on_free_ports(tmp_path_factory.mktemp("secure-stack"))
    try:
        for step in (("stack", "up", "--secure"), ("migrate",)):
            result = running.cli(*step, timeout=600)
            if result.returncode != 0:
                pytest.fail(
                    f"`sluice {' '.join(step)}` failed on the secure stack:\n{result.stderr}",
                    pytrace=False,
                )
        yield running
    finally:
        # Reset, not just down: the PostgreSQL data may live outside the temporary folder.
        reset = running.cli("stack", "reset", "--yes", timeout=300)
        assert reset.returncode == 0, f"the secure stack was not reset:\n{reset.stderr}"


@pytest.fixture(scope="session")
def migrated(stack: Stack) -> None:
    """The database schema, applied by `sluice migrate` as a user would."""
    result = _run_sluice("migrate")
    assert result.returncode == 0, result.stderr


@pytest.fixture
def demo_sources(settings: Settings, migrated: None) -> Iterator[list[sluice_sources.Source]]:
    """The demo sites registered as a source of each spider, under names of this test's own, so
    a ``crawl_<spider>`` run without start URLs crawls them; deleted after the test.

    Such a run crawls every enabled source of its spider: one that starts elsewhere (left by
    hand on this stack) fails the test here, by name, rather than its crawl later.
    """
    with contextlib.ExitStack() as scope:
        added = [
            scope.enter_context(registered(settings, demo.spider, demo.start_urls))
            for demo in sluice_sources.demo_sources(settings.demo_site_url)
        ]
        if others := strangers(settings, added):
            pytest.fail(
                "enabled sources would be crawled beside the demo sites: "
                f"{', '.join(s.name for s in others)}; disable them (`sluice source disable NAME`)",
                pytrace=False,
            )
        yield added


@pytest.fixture(scope="session")
def platform(stack: Stack, settings: Settings, migrated: None) -> Iterator[Stack]:
    """The whole platform as `sluice up` runs it: migrations, processors, the worker pool, the
    demo sites and Airflow (api-server, scheduler, dag-processor, triggerer)."""
    running = Stack(settings, progress=Progress(), platform=True)
    try:
        running.up()
    except (StackError, StackErrors) as exc:
        pytest.fail(f"the platform did not start:\n{exc.describe()}", pytrace=False)
    yield running


@pytest.fixture(scope="session")
def monitoring(platform: Stack, settings: Settings) -> Iterator[Stack]:
    """The platform with `sluice up --with-monitoring`'s Prometheus, exporters and
    statsd_exporter."""
    running = Stack(settings, progress=Progress(), platform=True, monitoring=True)
    try:
        running.up()
    except (StackError, StackErrors) as exc:
        pytest.fail(f"the monitoring services did not start:\n{exc.describe()}", pytrace=False)
    yield running


def pytest_configure(config: pytest.Config) -> None:
    """Make this process part of the local Airflow before any test module imports Airflow.

    Airflow reads its configuration once, at import; set later, ``dag.test()`` would run
    against a default SQLite home instead of the stack's Airflow.
    """
    from sluice.airflow_local import airflow_environment, airflow_home, load_secrets

    settings = load_settings()
    os.environ.update(airflow_environment(settings, load_secrets(airflow_home(settings))))


@pytest.fixture(scope="session")
def airflow_env(settings: Settings) -> dict[str, str]:
    """The local Airflow's environment, which :func:`pytest_configure` gave this process."""
    from sluice.airflow_local import airflow_environment, airflow_home, load_secrets

    env = airflow_environment(settings, load_secrets(airflow_home(settings)))
    assert all(os.environ.get(k) == v for k, v in env.items()), "Airflow env changed mid-run"
    return env


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say what the session's sweep removed from the checkout's stack."""
    for result in _swept:
        terminalreporter.write_line(result.describe())
