"""DAG bundles published to a Git branch, and an Airflow that reads them through GitDagBundle.

The Airflow here is one of its own (api-server, scheduler, dag-processor on a metadata database
and a stack folder of their own), started the way `sluice up` starts the platform's, with
SLUICE_DAG_BUNDLE_GIT_URL pointing at a bare repository this module publishes to.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from psycopg import sql

from sluice.bundle.build import build_bundle
from sluice.bundle.git import GitPublishError, publish_to_git, tag_of
from sluice.settings import load_settings
from sluice.stack.progress import Progress
from sluice.stack.services.airflow import FIRST, AirflowComponent, airflow_health
from sluice.stack.services.base import NotReady
from sluice.stack.services.postgres import Postgres
from tests.support.airflow import AirflowApi
from tests.support.crawling import wait_for
from tests.support.network import free_port

PROBE = "bundle_probe"
#: a DAG whose one task writes which version of the file it ran to <marks>/<run>-<try>
PROBE_DAG = '''"""Writes the bundle version it ran from."""

from datetime import datetime
from pathlib import Path

from airflow.sdk import DAG, get_current_context, task

MARK = "{mark}"

with DAG(
    "{dag_id}",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["test"],
    default_args={{"owner": "data-platform", "retries": 0}},
    doc_md="Writes the bundle version it ran from.",
):

    @task
    def mark():
        context = get_current_context()
        name = f"{{context['run_id']}}-{{context['ti'].try_number}}".replace(":", "_")
        Path("{marks}", name).write_text(MARK)

    mark()
'''


def bundle_of(tmp: Path, mark: str, marks: Path) -> Path:
    """A built bundle whose only DAG is the probe, writing ``mark``."""
    project = tmp / f"project-{mark}"
    (project / "dags").mkdir(parents=True)
    dag = PROBE_DAG.format(mark=mark, dag_id=PROBE, marks=marks)
    (project / "dags" / f"{PROBE}.py").write_text(dag)
    return build_bundle(project, tmp / "dist", version=mark).path


# -- publishing --------------------------------------------------------------------------------
def git_lines(repo: Path, *args: str) -> list[str]:
    done = subprocess.run(["git", "--git-dir", str(repo), *args], capture_output=True, text=True)
    return done.stdout.split()


def test_each_publication_is_a_tagged_commit_of_the_bundles_files(tmp_path):
    repo = tmp_path / "dags.git"
    first = publish_to_git(bundle_of(tmp_path, "v1", tmp_path), str(repo))
    second = publish_to_git(bundle_of(tmp_path, "v2", tmp_path), str(repo))
    history = git_lines(repo, "rev-list", "dags")
    tagged = [git_lines(repo, "rev-parse", f"{tag_of(v)}^{{commit}}")[0] for v in ("v1", "v2")]
    files = git_lines(repo, "ls-tree", "-r", "--name-only", "dags")
    assert (history, tagged, files) == (
        [second.commit, first.commit],
        [first.commit, second.commit],
        [f"dags/{PROBE}.py", "manifest.json"],
    )


def test_a_version_published_again_changes_nothing_and_with_other_files_is_refused(tmp_path):
    repo = tmp_path / "dags.git"
    archive = bundle_of(tmp_path, "v1", tmp_path)
    first = publish_to_git(archive, str(repo))
    again = publish_to_git(archive, str(repo))
    other = bundle_of(tmp_path / "other", "v1", tmp_path / "elsewhere")
    with pytest.raises(GitPublishError, match="v1 is already published as dags-v1 with other"):
        publish_to_git(other, str(repo))
    assert (again.commit, again.created, git_lines(repo, "rev-list", "dags")) == (
        first.commit,
        False,
        [first.commit],
    )


# -- Airflow reading the branch ----------------------------------------------------------------
def _stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="module")
def git_airflow(stack, settings, tmp_path_factory) -> Iterator[dict]:
    """An Airflow whose DAGs come from a Git branch that holds the probe's v1."""
    tmp = tmp_path_factory.mktemp("git-airflow")
    marks = tmp / "marks"
    marks.mkdir()
    repo = tmp / "dags.git"
    publish_to_git(bundle_of(tmp, "v1", marks), str(repo))
    database = f"airflow_git_{uuid.uuid4().hex[:8]}"
    overrides = {
        "SLUICE_AIRFLOW_URL": f"http://127.0.0.1:{free_port()}",
        "SLUICE_AIRFLOW_DB_URL": settings.airflow_db_url.rsplit("/", 1)[0] + f"/{database}",
        "SLUICE_STACK_DIR": str(tmp / "stack"),
        "SLUICE_DAG_BUNDLE_GIT_URL": str(repo),
        # The test publishes a second version and waits for it: Airflow looks more often.
        "SLUICE_DAG_BUNDLE_REFRESH": "5",
    }
    env = {**os.environ, **overrides}
    own = load_settings(env)
    with Postgres(settings).superuser_connection() as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(database), sql.Identifier(Postgres(settings).airflow.name)
            )
        )
    started: list[subprocess.Popen] = []
    try:
        AirflowComponent(own, FIRST).prepare(Progress())
        for component in ("api-server", "scheduler", "dag-processor"):
            log = (tmp / f"{component}.log").open("w")
            command = [sys.executable, "-m", "sluice", "airflow", component]
            started.append(subprocess.Popen(command, env=env, stdout=log, stderr=log))

        def healthy() -> bool:
            for process in started:
                assert process.poll() is None, (tmp / "api-server.log").read_text()[-3000:]
            try:
                health = airflow_health(own.airflow_url)
            except NotReady:
                return False
            keys = ("scheduler", "dag_processor")
            return all(health.get(k, {}).get("status") == "healthy" for k in keys)

        wait_for(healthy, 180, what="the Airflow on the Git bundle")
        api = AirflowApi(own)
        api.wait_for_dag(PROBE)
        api.patch(f"/dags/{PROBE}", {"is_paused": False})
        yield {"api": api, "repo": repo, "marks": marks, "tmp": tmp}
    finally:
        _stop(started)
        with Postgres(settings).superuser_connection() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
            )


def trigger(api: AirflowApi) -> str:
    run = api.post(f"/dags/{PROBE}/dagRuns", {"logical_date": None})["dag_run_id"]
    assert api.wait_runs(PROBE, [run], timeout=300) == {run: "success"}
    return run


def parsed_at(api: AirflowApi, commit: str) -> bool:
    """Whether the dag-processor has parsed the probe at ``commit``."""
    versions = api.get(f"/dags/{PROBE}/dagVersions")["dag_versions"]
    return any(v["bundle_version"] == commit for v in versions)


@pytest.mark.postgres
def test_a_cleared_task_runs_again_with_the_version_it_first_ran_with(git_airflow):
    api, marks = git_airflow["api"], git_airflow["marks"]
    first = trigger(api)
    v2 = publish_to_git(bundle_of(git_airflow["tmp"], "v2", marks), str(git_airflow["repo"]))
    wait_for(lambda: parsed_at(api, v2.commit), 180, 2, what=f"the probe parsed at {v2.commit}")
    second = trigger(api)
    api.post(
        f"/dags/{PROBE}/clearTaskInstances",
        {"dag_run_id": first, "task_ids": ["mark"], "dry_run": False, "only_failed": False},
    )
    wait_for(lambda: len(list(marks.iterdir())) == 3, 300, what="the cleared task to run again")
    assert api.wait_runs(PROBE, [first], timeout=300) == {first: "success"}
    ran = {path.name: path.read_text() for path in marks.iterdir()}
    recorded = {
        run: api.get(f"/dags/{PROBE}/dagRuns/{quote(run, safe='')}")["bundle_version"]
        for run in (first, second)
    }
    name = {first: first.replace(":", "_"), second: second.replace(":", "_")}
    assert (ran, recorded[second]) == (
        {f"{name[first]}-1": "v1", f"{name[second]}-1": "v2", f"{name[first]}-2": "v1"},
        v2.commit,
    )
