"""The GitHub Actions workflows (.github/workflows) and the scripts they run.

- actionlint checks each workflow (expressions, job and step keys, `needs` outputs, the
  configuration variables of .github/actionlint.yaml) and runs shellcheck on every `run:`;
  shellcheck checks scripts/rollback.sh and .github/scripts/canary-check.sh; checkov runs its
  github_actions checks as the security job does. Each is also shown to fail a broken copy.
- Assertions on what makes the pipelines safe: timeouts, read-only tokens, pinned actions,
  OIDC only where AWS is used, staging before an approved production, a canary and a
  rollback, and the jobs the issue asked for.
- scripts/rollback.sh and the canary check run against stand-in `helm`, `kubectl` and `curl`
  (small Python programs on a PATH of their own), since neither a cluster nor the real tools
  are here.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support.network import free_port

WORKFLOWS = ["ci.yml", "dag-bundle.yml", "deploy.yml", "fuzz.yml"]
SCRIPTS = ["scripts/rollback.sh", ".github/scripts/canary-check.sh"]
ROLLBACK = "scripts/rollback.sh"
CANARY_CHECK = ".github/scripts/canary-check.sh"
CANARY_VALUES = ".github/deploy/values-canary.yaml"
SHA = re.compile(r"^[0-9a-f]{40}$")
EXACT_VERSION = re.compile(r"^v?\d+\.\d+\.\d+$")
# The system commands the scripts use besides helm, kubectl and curl.
COMMANDS = ["bash", "grep", "sed", "sort", "tail", "head", "cut", "awk", "cat", "mktemp", "rm",
            "sleep"]  # fmt: skip


# --- helpers ---------------------------------------------------------------------------------


def load(settings, name: str) -> dict:
    return yaml.safe_load((settings.project_dir / ".github/workflows" / name).read_text())


def triggers(workflow: dict) -> dict:
    # YAML 1.1 reads the key `on` as the boolean true.
    return workflow.get("on", workflow.get(True))


def steps(job: dict) -> list[dict]:
    return job.get("steps", [])


def runs(job: dict) -> str:
    """Every `run:` of a job, joined."""
    return "\n".join(step.get("run", "") for step in steps(job))


def uses(job: dict) -> list[str]:
    return [step["uses"] for step in steps(job) if "uses" in step]


def step_index(job: dict, predicate) -> int:
    found = [i for i, step in enumerate(steps(job)) if predicate(step)]
    assert found, "no such step"
    return found[0]


def running(text: str):
    return lambda step: text in step.get("run", "")


def helm_upgrades(job: dict) -> list[str]:
    """Each `helm upgrade` command of a job, its continuation lines joined."""
    commands = []
    for step in steps(job):
        script = step.get("run", "").replace("\\\n", " ")
        commands += [line for line in script.splitlines() if "helm upgrade" in line]
    return commands


@pytest.fixture(scope="module")
def workflows(settings) -> dict[str, dict]:
    return {name: load(settings, name) for name in WORKFLOWS}


@pytest.fixture(params=WORKFLOWS)
def name(request) -> str:
    return request.param


# --- actionlint, shellcheck, checkov ---------------------------------------------------------


def test_workflow_passes_actionlint(tool, name):
    result = tool("actionlint", f".github/workflows/{name}")
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_fails_a_broken_expression(tool, broken_copy):
    broken = broken_copy(
        ".github/workflows/deploy.yml",
        "failure() && steps.promote.outcome == 'success'",
        "failure() && steps.promote.outcome = 'success'",
    )
    result = tool("actionlint", str(broken))
    assert result.returncode != 0
    assert "[expression]" in result.stdout and "steps.promote.outcome = " in result.stdout


def test_actionlint_fails_an_unknown_job_key(tool, broken_copy):
    broken = broken_copy(".github/workflows/ci.yml", "timeout-minutes: 10", "timeout-minute: 10")
    result = tool("actionlint", str(broken))
    assert result.returncode != 0 and 'unexpected key "timeout-minute"' in result.stdout


def test_actionlint_fails_an_unknown_job_output(tool, broken_copy):
    broken = broken_copy(
        ".github/workflows/deploy.yml", "needs.images.outputs.tag", "needs.images.outputs.tags"
    )
    result = tool("actionlint", str(broken))
    assert result.returncode != 0 and 'property "tags" is not defined' in result.stdout


def test_actionlint_shellchecks_the_run_steps(tool, broken_copy):
    broken = broken_copy(
        ".github/workflows/deploy.yml",
        'scripts/rollback.sh "$RELEASE" "$NAMESPACE"',
        'scripts/rollback.sh $RELEASE "$NAMESPACE"',
    )
    result = tool("actionlint", str(broken))
    assert result.returncode != 0 and "SC2086" in result.stdout


@pytest.mark.parametrize("script", SCRIPTS)
def test_scripts_pass_shellcheck(tool, script):
    result = tool("shellcheck", script)
    assert result.returncode == 0, result.stdout


def test_shellcheck_fails_a_broken_rollback_script(tool, broken_copy):
    broken = broken_copy(
        ROLLBACK, 'kubectl rollout status "$workload"', "kubectl rollout status $workload"
    )
    result = tool("shellcheck", str(broken))
    assert result.returncode != 0 and "SC2086" in result.stdout  # the unquoted $workload


def checkov(tool, folder: Path):
    return tool("checkov", "--config-file", ".github/checkov.yaml", "--directory", str(folder))


def test_workflows_pass_checkov(tool, settings):
    result = checkov(tool, settings.project_dir / ".github")
    assert result.returncode == 0, result.stdout
    assert re.search(r"github_actions scan results:\s+Passed checks: [1-9]", result.stdout)


def test_checkov_fails_a_workflow_with_a_write_all_token(tool, broken_copy, tmp_path):
    broken = broken_copy(".github/workflows/ci.yml", "permissions:\n  contents: read", "")
    folder = tmp_path / "repo" / ".github" / "workflows"
    folder.mkdir(parents=True)
    text = broken.read_text().replace("\njobs:", "\npermissions: write-all\n\njobs:", 1)
    (folder / "ci.yml").write_text(text)
    result = checkov(tool, tmp_path / "repo" / ".github")
    assert result.returncode != 0 and "CKV2_GHA_1" in result.stdout


# --- what every workflow must do -------------------------------------------------------------


def test_every_job_has_a_timeout(workflows, name):
    for job_name, job in workflows[name]["jobs"].items():
        assert isinstance(job.get("timeout-minutes"), int), f"{name}: {job_name}"


def test_the_default_token_is_read_only(workflows, name):
    assert workflows[name]["permissions"] == {"contents": "read"}


def test_run_steps_fail_on_a_failing_pipe(workflows, name):
    # A named `bash` shell is `bash -eo pipefail`; the default is not.
    assert workflows[name]["defaults"]["run"]["shell"] == "bash"
    for job in workflows[name]["jobs"].values():
        for step in steps(job):
            assert step.get("shell", "bash") == "bash", step


def test_only_the_jobs_that_reach_aws_may_request_an_id_token(workflows):
    expected = {
        "ci.yml": set(),
        "dag-bundle.yml": {"publish"},
        "deploy.yml": {"images", "staging", "production"},
        "fuzz.yml": set(),
    }
    for name, workflow in workflows.items():
        granted = {
            job_name
            for job_name, job in workflow["jobs"].items()
            if (job.get("permissions") or {}).get("id-token") == "write"
        }
        assert granted == expected[name], name
        for job_name in granted:
            job = workflow["jobs"][job_name]
            assert "aws-actions/configure-aws-credentials" in " ".join(uses(job)), job_name
            assert set(job["permissions"].values()) <= {"read", "write"}
            writes = {k for k, v in job["permissions"].items() if v == "write"}
            assert writes == {"id-token"}, f"{name}: {job_name} may write {writes}"


def test_every_action_is_pinned_to_a_commit_with_its_version(settings, workflows, name):
    text = (settings.project_dir / ".github/workflows" / name).read_text()
    for job_name, job in workflows[name]["jobs"].items():
        for action in uses(job):
            assert not action.startswith("docker://"), action
            if action.startswith("./"):
                continue
            ref = action.rpartition("@")[2]
            assert SHA.match(ref) or EXACT_VERSION.match(ref), f"{job_name}: {action}"
            if SHA.match(ref):
                # The version the commit is, for readers and for updating it.
                assert re.search(rf"uses: {re.escape(action)} # v\d+\.\d+\.\d+\n", text), action


def test_each_action_is_pinned_to_one_commit_everywhere(workflows):
    seen: dict[str, set[str]] = {}
    for workflow in workflows.values():
        for job in workflow["jobs"].values():
            for action in uses(job):
                repo, _, ref = action.partition("@")
                seen.setdefault(repo, set()).add(ref)
    assert {repo: refs for repo, refs in seen.items() if len(refs) > 1} == {}


def test_python_is_3_11(workflows):
    for workflow in workflows.values():
        for job in workflow["jobs"].values():
            for step in steps(job):
                if step.get("uses", "").startswith("actions/setup-python@"):
                    assert step["with"]["python-version"] == "3.11"
            if "container" in job:
                assert job["container"]["image"].startswith("python:3.11.")


def test_actionlint_knows_every_configuration_variable(settings, workflows):
    config = yaml.safe_load((settings.project_dir / ".github/actionlint.yaml").read_text())
    used = set()
    for name in WORKFLOWS:
        text = (settings.project_dir / ".github/workflows" / name).read_text()
        used |= set(re.findall(r"\bvars\.([A-Z0-9_]+)", text))
    assert used == set(config["config-variables"])


# --- ci.yml ----------------------------------------------------------------------------------


def test_ci_runs_on_pull_requests_and_main_and_cancels_superseded_runs(workflows):
    ci = workflows["ci.yml"]
    on = triggers(ci)
    assert "pull_request" in on and on["push"]["branches"] == ["main"]
    assert ci["concurrency"]["cancel-in-progress"] is True
    assert "github.ref" in ci["concurrency"]["group"]


def test_ci_has_the_jobs_of_the_issue(workflows):
    jobs = workflows["ci.yml"]["jobs"]
    assert {"lint", "unit", "integration", "dag-integrity", "security"} <= set(jobs)
    assert "ruff check" in runs(jobs["lint"]) and "ruff format --check" in runs(jobs["lint"])
    assert ".venv/bin/pytest tests/unit" in runs(jobs["unit"])
    assert "make deps venv tools" in runs(jobs["unit"])  # the deploy tests need the checkers
    integration = runs(jobs["integration"])
    assert "sluice stack up" in integration and "pytest tests/integration" in integration
    dag = runs(jobs["dag-integrity"])
    assert "sluice bundle build" in dag and "sluice bundle verify" in dag


def test_the_suites_run_in_the_dockerfiles_debian_image(settings, workflows):
    dockerfile = (settings.project_dir / "Dockerfile").read_text()
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)", dockerfile, re.MULTILINE).group(1)
    jobs = workflows["ci.yml"]["jobs"]
    assert jobs["unit"]["container"]["image"] == base
    assert jobs["integration"]["container"]["image"] == base


def test_ci_caches_pip_and_the_sluice_cache(workflows):
    jobs = workflows["ci.yml"]["jobs"]
    for job_name in ("unit", "integration"):
        job = jobs[job_name]
        cached = {
            (step["uses"].split("@")[0], step["with"]["path"])
            for step in steps(job)
            if step.get("uses", "").startswith("actions/cache")
        }
        assert ("actions/cache", "~/.cache/pip") in cached, job_name
        assert ("actions/cache/restore", "~/.cache/sluice") in cached, job_name
        assert ("actions/cache/save", "~/.cache/sluice") in cached, job_name
        # Saved before the tests run, so that their failure does not lose the builds.
        saved = step_index(job, lambda s: s.get("uses", "").startswith("actions/cache/save@"))
        assert saved < step_index(job, running("bin/pytest"))


def test_the_security_job_runs_every_auditor(workflows):
    security = workflows["ci.yml"]["jobs"]["security"]
    script = runs(security)
    assert re.search(r"pip-audit .*--strict", script)
    assert "-r requirements.txt" in script
    assert re.search(r"bandit .*--severity-level (medium|high)", script)
    for folder in ("sluice", "api", "processors", "spiders", "plugins", "dags"):
        assert re.search(rf"bandit[^\n]*\n?[^\n]*\b{folder}\b", script), folder
    assert "checkov" in script
    for target in ("--file Dockerfile", "terraform", ".github", "manifests"):
        assert target in script, target
    scanners = [
        a for a in uses(security) if a.split("@")[0].endswith(("trufflehog", "gitleaks-action"))
    ]
    assert scanners or "detect-secrets" in script


def test_the_bandit_baseline_only_accepts_the_stacks_reviewed_findings(settings):
    baseline = json.loads((settings.project_dir / ".github/bandit-baseline.json").read_text())
    for finding in baseline["results"]:
        assert finding["filename"].startswith("sluice/stack/"), finding["filename"]
        assert finding["test_id"] in {"B310", "B411"}, finding


# --- dag-bundle.yml --------------------------------------------------------------------------


def test_dag_bundle_builds_verifies_keeps_and_publishes(workflows):
    workflow = workflows["dag-bundle.yml"]
    push = triggers(workflow)["push"]
    assert push["branches"] == ["main"]
    assert {"dags/**", "plugins/**", "sluice/**"} <= set(push["paths"])
    build, publish = workflow["jobs"]["build"], workflow["jobs"]["publish"]
    assert "sluice bundle build" in runs(build) and "sluice bundle verify" in runs(build)
    assert step_index(build, running("sluice bundle build")) < step_index(
        build, running("sluice bundle verify")
    )
    assert any(a.startswith("actions/upload-artifact@") for a in uses(build))
    assert publish["needs"] == "build"
    aws = next(s for s in steps(publish) if "configure-aws-credentials" in s.get("uses", ""))
    assert aws["with"]["role-to-assume"].startswith("${{ vars.")
    assert "aws s3" in runs(publish)


# --- deploy.yml ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def deploy(workflows) -> dict:
    return workflows["deploy.yml"]


def test_deploy_runs_on_version_tags_and_by_hand(deploy):
    on = triggers(deploy)
    assert on["push"]["tags"] == ["v*"] and "workflow_dispatch" in on


def test_deploy_builds_and_pushes_both_targets(deploy):
    images = deploy["jobs"]["images"]
    builds = [s for s in steps(images) if s.get("uses", "").startswith("docker/build-push-action@")]
    assert {b["with"]["target"] for b in builds} == {"runtime", "airflow"}
    for build in builds:
        assert build["with"]["push"] is True
    # Tagged with the commit and, for a release tag, the version.
    naming = runs(images)
    assert ":$GITHUB_SHA" in naming and "${REF_NAME#v}" in naming


def test_production_is_approved_and_comes_after_staging(deploy):
    jobs = deploy["jobs"]
    assert jobs["staging"]["environment"]["name"] == "staging"
    assert jobs["production"]["environment"]["name"] == "production"
    assert "staging" in jobs["production"]["needs"]
    for job_name in ("staging", "production"):
        assert jobs[job_name]["concurrency"]["cancel-in-progress"] is False


@pytest.mark.parametrize("job_name", ["staging", "production"])
def test_helm_deploys_wait_atomically_after_building_the_dependencies(deploy, job_name):
    job = deploy["jobs"][job_name]
    upgrades = helm_upgrades(job)
    assert upgrades
    for command in upgrades:
        assert "--install" in command and "--wait" in command and "--atomic" in command
        assert f"helm/sluice/values-{job_name}.yaml" in command, command
    first_upgrade = step_index(job, running("helm upgrade"))
    assert step_index(job, running("helm dependency build helm/sluice")) < first_upgrade


@pytest.mark.parametrize("job_name", ["staging", "production"])
def test_a_deploy_is_smoke_tested_and_rolled_back_when_it_fails(deploy, job_name):
    job = deploy["jobs"][job_name]
    smoke = step_index(job, running("/readyz"))
    rollback = step_index(job, running("scripts/rollback.sh"))
    assert rollback > smoke
    condition = steps(job)[rollback]["if"]
    assert "failure()" in condition
    deployed = steps(job)[step_index(job, running('helm upgrade --install "$RELEASE"'))]
    assert f"steps.{deployed['id']}.outcome == 'success'" in condition


def test_production_goes_through_a_canary_first(deploy):
    job = deploy["jobs"]["production"]
    canary = step_index(job, running('helm upgrade --install "$CANARY_RELEASE"'))
    watch = step_index(job, running(CANARY_CHECK))
    promote = step_index(job, running('helm upgrade --install "$RELEASE"'))
    assert canary < watch < promote
    assert CANARY_VALUES in steps(job)[canary]["run"]
    removal = steps(job)[step_index(job, running('helm uninstall "$CANARY_RELEASE"'))]
    assert removal["if"].startswith("always()")


def test_the_canary_renders_one_replica_of_each_app_with_a_canary_ingress(tool, settings, tmp_path):
    chart = tmp_path / "helm" / "sluice"
    shutil.copytree(settings.project_dir / "helm/sluice", chart, symlinks=True)
    (tmp_path / "monitoring").symlink_to(settings.project_dir / "monitoring")
    meta = yaml.safe_load((chart / "Chart.yaml").read_text())
    meta.pop("dependencies", None)  # the Airflow chart cannot be fetched here; it is off anyway
    (chart / "Chart.yaml").write_text(yaml.safe_dump(meta, sort_keys=False))

    def render(release: str, *files: str) -> list[dict]:
        args = ["-f", str(chart / "values-production.yaml")]
        for file in files:
            args += ["-f", str(settings.project_dir / file)]
        result = tool("helm", "template", release, str(chart), "--namespace", "sluice", *args)
        assert result.returncode == 0, result.stderr
        return [doc for doc in yaml.safe_load_all(result.stdout) if doc]

    stable = render("sluice")
    canary = render("sluice-canary", CANARY_VALUES)
    kinds = {m["kind"] for m in canary}
    assert not kinds & {"HorizontalPodAutoscaler", "ScaledObject", "PodDisruptionBudget",
                        "ServiceMonitor", "PrometheusRule", "ServiceAccount"}  # fmt: skip
    deployments = [m for m in canary if m["kind"] == "Deployment"]
    assert {d["metadata"]["name"] for d in deployments} >= {
        "sluice-canary-api", "sluice-canary-normalizer", "sluice-canary-archiver",
        "sluice-canary-workers",
    }  # fmt: skip
    (account,) = [m["metadata"]["name"] for m in stable if m["kind"] == "ServiceAccount"]
    for deployment in deployments:
        assert deployment["spec"]["replicas"] == 1, deployment["metadata"]["name"]
        assert deployment["spec"]["template"]["spec"]["serviceAccountName"] == account
    (ingress,) = [m for m in canary if m["kind"] == "Ingress"]
    (stable_ingress,) = [m for m in stable if m["kind"] == "Ingress"]
    annotations = ingress["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/canary"] == "true"
    assert 0 < int(annotations["nginx.ingress.kubernetes.io/canary-weight"]) <= 50
    assert [r["host"] for r in ingress["spec"]["rules"]] == [
        r["host"] for r in stable_ingress["spec"]["rules"]
    ]
    assert "tls" not in ingress["spec"]


# --- scripts/rollback.sh and the canary check, with stand-in tools ---------------------------

FAKE_HELM = """\
import os, sys
args = sys.argv[1:]
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write("helm " + " ".join(args) + "\\n")
if args[0] == "history":
    print(open(os.environ["FAKE_HISTORY"]).read())
elif args[0] == "rollback":
    sys.exit(int(os.environ.get("FAKE_ROLLBACK_STATUS", "0")))
"""

FAKE_KUBECTL = """\
import os, sys
args = sys.argv[1:]
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write("kubectl " + " ".join(args) + "\\n")
if "--namespace" in args:
    i = args.index("--namespace")
    del args[i : i + 2]
if args[:2] == ["get", "deployments,statefulsets"]:
    selector = args[args.index("--selector") + 1]
    workloads = os.environ.get("FAKE_WORKLOADS", "").split(",")
    if selector.startswith("app.kubernetes.io/instance="):
        print("\\n".join(w for w in workloads if not w.startswith("statefulset")))
    else:
        print("\\n".join(w for w in workloads if w.startswith("statefulset")))
elif args[:2] == ["rollout", "status"]:
    sys.exit(1 if args[2] in os.environ.get("FAKE_UNHEALTHY", "").split(",") else 0)
elif args[:2] == ["get", "services"]:
    print("service/sluice-canary-api")
elif args[:2] == ["get", "jobs"]:
    print(os.environ.get("FAKE_JOBS", ""))
elif args[:2] == ["get", "pods"]:
    # The pod states of the n-th call: file n, or the last file there is.
    folder = os.environ["FAKE_PODS"]
    calls = sum(1 for line in open(os.environ["FAKE_LOG"]) if " get pods " in line)
    files = sorted(os.listdir(folder), key=int)
    print(open(os.path.join(folder, str(min(calls, int(files[-1]))))).read(), end="")
elif args[0] == "port-forward":
    port = args[2].split(":")[0]
    os.execv(sys.executable, [sys.executable, "-m", "http.server", port,
                              "--bind", "127.0.0.1", "--directory", os.environ["FAKE_WWW"]])
"""

# curl as the canary check calls it: [--silent] [--fail] [--output FILE] [--max-time S] URL.
FAKE_CURL = """\
import sys, urllib.error, urllib.request
args, out, fail, timeout, url = sys.argv[1:], None, False, 10.0, None
i = 0
while i < len(args):
    if args[i] == "--output":
        out = args[i + 1]
    if args[i] == "--max-time":
        timeout = float(args[i + 1])
    if args[i] in ("--output", "--max-time"):
        i += 2
        continue
    fail = fail or args[i] == "--fail"
    url = args[i] if args[i].startswith("http") else url
    i += 1
try:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        body = response.read()
except urllib.error.HTTPError:
    sys.exit(22 if fail else 0)
except OSError:
    sys.exit(7)
if out != "/dev/null":
    sys.stdout.buffer.write(body)
"""


def history(*entries: tuple[int, str]) -> str:
    """`helm history -o json` as Helm 3 writes it."""
    return "[" + ",".join(
        f'{{"revision":{rev},"updated":"2026-11-0{rev}T10:00:00.123456789Z","status":"{status}",'
        f'"chart":"sluice-0.1.0","app_version":"0.1.0","description":"Upgrade \\"x\\" done"}}'
        for rev, status in entries
    ) + "]"  # fmt: skip


@pytest.fixture
def fakes(settings, tmp_path):
    """A PATH with the system commands the scripts need and stand-ins for the cluster tools;
    ``fakes.run(script, *args, without=("helm",), **env)``."""
    system = tmp_path / "system"
    system.mkdir()
    for command in COMMANDS:
        found = shutil.which(command)
        assert found, f"{command} is not installed"
        (system / command).symlink_to(found)
    tools = tmp_path / "tools"
    tools.mkdir()
    for tool_name, source in (("helm", FAKE_HELM), ("kubectl", FAKE_KUBECTL), ("curl", FAKE_CURL)):
        path = tools / tool_name
        path.write_text(f"#!{sys.executable}\n{source}")
        path.chmod(0o755)
    log = tmp_path / "calls.log"
    log.touch()

    class Fakes:
        dir = tmp_path

        def run(self, script: str, *args: str, without=(), **env) -> subprocess.CompletedProcess:
            bin_dir = tmp_path / "bin"
            shutil.rmtree(bin_dir, ignore_errors=True)
            bin_dir.mkdir()
            for tool_path in tools.iterdir():
                if tool_path.name not in without:
                    (bin_dir / tool_path.name).symlink_to(tool_path)
            return subprocess.run(
                [str(system / "bash"), str(settings.project_dir / script), *args],
                env={
                    "PATH": f"{bin_dir}{os.pathsep}{system}",
                    "FAKE_LOG": str(log),
                    "HOME": str(tmp_path),
                    **env,
                },
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )

        def calls(self, program: str) -> list[str]:
            return [line for line in log.read_text().splitlines() if line.startswith(program)]

    return Fakes()


def test_rollback_help_exits_0_with_the_usage(fakes):
    result = fakes.run(ROLLBACK, "--help", without=("helm", "kubectl"))
    assert result.returncode == 0
    assert result.stdout.startswith("Usage: scripts/rollback.sh RELEASE NAMESPACE [REVISION]")


@pytest.mark.parametrize(
    ("args", "named"),
    [((), "RELEASE"), (("sluice",), "NAMESPACE"), (("sluice", "sluice", "two"), "REVISION")],
)
def test_rollback_names_a_missing_or_bad_argument_before_looking_for_tools(fakes, args, named):
    result = fakes.run(ROLLBACK, *args, without=("helm", "kubectl"))
    assert result.returncode == 2 and named in result.stderr, result.stderr
    assert "not on PATH" not in result.stderr


@pytest.mark.parametrize("missing", ["helm", "kubectl"])
def test_rollback_reports_a_missing_tool(fakes, missing):
    result = fakes.run(ROLLBACK, "sluice", "sluice", without=(missing,))
    assert result.returncode == 1
    assert f"rollback: {missing} is not on PATH" in result.stderr
    assert fakes.calls("helm") == []  # nothing was done before the check


def write_history(fakes, *entries) -> dict[str, str]:
    path = fakes.dir / "history.json"
    path.write_text(history(*entries))
    return {"FAKE_HISTORY": str(path)}


WORKLOADS = ",".join(
    [
        "deployment.apps/sluice-api",
        "deployment.apps/sluice-workers",
        "statefulset.apps/sluice-triggerer",
    ]
)


def test_rollback_returns_to_the_last_good_revision_and_checks_every_workload(fakes):
    env = write_history(fakes, (1, "superseded"), (2, "superseded"), (3, "failed"), (4, "deployed"))
    result = fakes.run(ROLLBACK, "sluice", "sluice", FAKE_WORKLOADS=WORKLOADS, **env)
    assert result.returncode == 0, result.stderr
    assert "helm rollback sluice 2 --namespace sluice --wait --timeout 10m" in fakes.calls("helm")
    statuses = [c.split()[3] for c in fakes.calls("kubectl rollout status")]
    assert statuses == sorted(WORKLOADS.split(","))
    assert "is at revision 2" in result.stdout


def test_rollback_after_a_failed_upgrade_returns_to_the_running_revision(fakes):
    env = write_history(fakes, (5, "superseded"), (6, "deployed"), (7, "failed"))
    result = fakes.run(ROLLBACK, "sluice", "prod", FAKE_WORKLOADS=WORKLOADS, **env)
    assert result.returncode == 0, result.stderr
    assert "helm rollback sluice 6 --namespace prod --wait --timeout 10m" in fakes.calls("helm")


def test_rollback_to_a_given_revision(fakes):
    env = write_history(fakes, (1, "superseded"), (2, "superseded"), (3, "deployed"))
    result = fakes.run(
        ROLLBACK, "sluice", "sluice", "1", FAKE_WORKLOADS=WORKLOADS, ROLLBACK_TIMEOUT="3m", **env
    )
    assert result.returncode == 0, result.stderr
    assert "helm rollback sluice 1 --namespace sluice --wait --timeout 3m" in fakes.calls("helm")


def test_rollback_refuses_a_revision_not_in_the_history(fakes):
    env = write_history(fakes, (3, "superseded"), (4, "deployed"))
    result = fakes.run(ROLLBACK, "sluice", "sluice", "9", **env)
    assert result.returncode == 1
    assert "revision 9 is not in the history of sluice (revisions 3 to 4)" in result.stderr
    assert not any(c.startswith("helm rollback") for c in fakes.calls("helm"))


def test_rollback_without_an_earlier_good_revision_fails(fakes):
    env = write_history(fakes, (1, "failed"), (2, "deployed"))
    result = fakes.run(ROLLBACK, "sluice", "sluice", **env)
    assert result.returncode == 1
    assert "no successfully deployed revision before revision 2" in result.stderr


def test_rollback_reports_a_failed_helm_rollback(fakes):
    env = write_history(fakes, (1, "superseded"), (2, "deployed"))
    result = fakes.run(ROLLBACK, "sluice", "sluice", FAKE_ROLLBACK_STATUS="1", **env)
    assert result.returncode == 1
    assert "helm rollback of sluice to revision 1 failed" in result.stderr
    assert fakes.calls("kubectl") == []


def test_rollback_names_the_workloads_that_do_not_roll_out(fakes):
    env = write_history(fakes, (1, "superseded"), (2, "deployed"))
    result = fakes.run(
        ROLLBACK, "sluice", "sluice", FAKE_WORKLOADS=WORKLOADS,
        FAKE_UNHEALTHY="deployment.apps/sluice-workers", **env,
    )  # fmt: skip
    assert result.returncode == 1
    assert "did not roll out: deployment.apps/sluice-workers" in result.stderr


def test_rollback_of_an_unknown_release_fails_clearly(fakes):
    env = write_history(fakes)
    result = fakes.run(ROLLBACK, "nope", "sluice", **env)
    assert result.returncode == 1 and "release nope has no revisions in sluice" in result.stderr


# The canary check: a port-forward stand-in serves files (readyz, healthz, metrics) over HTTP.


METRICS_OK = """\
sluice_api_requests_total{route="/api/v1/products",method="GET",status="200"} 120.0
sluice_api_requests_total{route="/api/v1/products",method="GET",status="500"} 1.0
sluice_api_requests_total{route="/readyz",method="GET",status="503"} 40.0
"""


def canary(
    fakes,
    pod_states: list[str],
    metrics: str = METRICS_OK,
    ready: bool = True,
    jobs: str = "sluice-canary-migrate-1ab4a069\tSuccessCriteriaMet Complete",
):
    pods = fakes.dir / "pods"
    pods.mkdir()
    for n, state in enumerate(pod_states, start=1):
        (pods / str(n)).write_text(state)
    www = fakes.dir / "www"
    www.mkdir()
    (www / "healthz").write_text("ok")
    if ready:
        (www / "readyz").write_text("ok")
    (www / "metrics").write_text(metrics)
    return fakes.run(
        CANARY_CHECK, "sluice-canary", "sluice", "2",
        FAKE_PODS=str(pods), FAKE_WWW=str(www), CANARY_PORT=str(free_port()),
        CANARY_INTERVAL="1", CANARY_MAX_FAILURES="2", FAKE_JOBS=jobs,
    )  # fmt: skip


HEALTHY = "sluice-canary-api-0\t0\ttrue\nsluice-canary-workers-0\t0 0\ttrue true\n"


def test_canary_check_help_and_arguments(fakes):
    result = fakes.run(CANARY_CHECK, "--help", without=("kubectl",))
    assert result.returncode == 0 and result.stdout.startswith("Usage:")
    result = fakes.run(CANARY_CHECK, "sluice-canary", "sluice", without=("kubectl",))
    assert result.returncode == 2 and "missing argument SECONDS" in result.stderr


def test_canary_check_passes_a_healthy_canary(fakes):
    result = canary(fakes, [HEALTHY])
    assert result.returncode == 0, result.stderr
    # 1 of 121: the probes' 503s are not the canary's traffic.
    assert "1 of 121 API requests answered 5xx" in result.stdout
    assert "stayed healthy" in result.stdout


def test_canary_check_fails_a_restarting_pod(fakes):
    restarted = HEALTHY.replace("workers-0\t0 0", "workers-0\t0 1")
    result = canary(fakes, [HEALTHY, restarted])
    assert result.returncode == 1
    assert "pod sluice-canary-workers-0 of sluice-canary restarted" in result.stderr


def test_canary_check_fails_an_api_that_is_not_ready(fakes):
    result = canary(fakes, [HEALTHY], ready=False)
    assert result.returncode == 1
    assert "GET /readyz of service/sluice-canary-api did not answer 200" in result.stderr


def test_canary_check_fails_too_many_server_errors(fakes):
    metrics = METRICS_OK.replace('status="500"} 1.0', 'status="500"} 9.0')
    result = canary(fakes, [HEALTHY], metrics=metrics)
    assert result.returncode == 1 and "9 of 129 API requests answered 5xx" in result.stderr


def test_canary_check_fails_a_failed_migration(fakes):
    result = canary(fakes, [HEALTHY], jobs="sluice-canary-migrate-1ab4a069\tFailureTarget Failed")
    assert result.returncode == 1
    assert "job sluice-canary-migrate-1ab4a069 of sluice-canary failed" in result.stderr


def test_canary_check_fails_a_migration_that_never_ends(fakes):
    result = canary(fakes, [HEALTHY], jobs="sluice-canary-migrate-1ab4a069\t")
    assert result.returncode == 1
    assert "job sluice-canary-migrate-1ab4a069 of sluice-canary has not completed" in result.stderr


def test_canary_check_leaves_job_pods_out_of_the_pod_checks(fakes):
    canary(fakes, [HEALTHY])
    assert all("!job-name" in call for call in fakes.calls("kubectl") if " get pods " in call)
