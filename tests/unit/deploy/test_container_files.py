"""Dockerfile, docker-compose.yaml and the shell scripts, checked by hadolint, the Compose
specification and shellcheck; each check also shown to fail on a broken copy."""

from __future__ import annotations

import re
from dataclasses import fields

import pytest
import yaml

from sluice.settings import Settings

SCRIPTS = ["scripts/demo", "scripts/install-venv", "scripts/install-system-deps",
           "scripts/install-tools", ".ci/run", "deploy/compose/postgres-init.sh"]  # fmt: skip


def test_the_dockerfile_passes_hadolint(tool):
    result = tool("hadolint", "Dockerfile")
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_fails_a_dockerfile_with_an_unpinned_base(tool, broken_copy):
    broken = broken_copy("Dockerfile", "FROM ${PYTHON_IMAGE} AS build", "FROM python AS build")
    result = tool("hadolint", str(broken))
    assert result.returncode != 0 and "DL3006" in result.stdout


def test_the_runtime_image_is_pinned_and_not_root(settings):
    text = (settings.project_dir / "Dockerfile").read_text(encoding="utf-8")
    runtime = text.split("AS runtime", 1)[1].split("\nFROM ", 1)[0]
    users = re.findall(r"^USER (\S+)", runtime, re.MULTILINE)
    assert users and users[-1].split(":")[0] not in ("root", "0")
    for image in re.findall(r"^ARG \w+_IMAGE=(\S+)", text, re.MULTILINE):
        assert re.search(r":\d+\.\d+", image), f"{image} is not pinned to a version"


def test_compose_follows_the_compose_specification(tool):
    result = tool(
        "check-jsonschema", "--builtin-schema", "vendor.compose-spec", "docker-compose.yaml"
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_broken_compose_file_fails_the_specification(tool, broken_copy):
    broken = broken_copy(
        "docker-compose.yaml", "condition: service_completed_successfully", "condition: whenever"
    )
    result = tool("check-jsonschema", "--builtin-schema", "vendor.compose-spec", str(broken))
    assert result.returncode != 0 and "whenever" in result.stdout


@pytest.fixture(scope="module")
def compose(settings) -> dict:
    return yaml.safe_load((settings.project_dir / "docker-compose.yaml").read_text())


def test_compose_uses_the_native_settings_names(compose):
    known = {f"SLUICE_{f.name.upper()}" for f in fields(Settings)}
    used = {
        name
        for service in compose["services"].values()
        for name in (service.get("environment") or {})
        if name.startswith("SLUICE_") and not name.endswith("_PASSWORD")
    }
    assert used and used <= known, used - known


def test_compose_dependencies_exist_and_wait_for_health(compose):
    services = compose["services"]
    for name, service in services.items():
        for needed, condition in (service.get("depends_on") or {}).items():
            assert needed in services, f"{name} depends on unknown {needed}"
            assert condition["condition"] in (
                "service_healthy", "service_completed_successfully"
            ), f"{name} -> {needed}"  # fmt: skip
            if condition["condition"] == "service_healthy":
                assert "healthcheck" in services[needed], f"{needed} has no healthcheck"
    for store in ("postgres", "redis", "kafka", "mongo"):
        assert any(v.startswith(f"{store}-data:") for v in services[store]["volumes"])


@pytest.mark.parametrize("script", SCRIPTS)
def test_shell_scripts_pass_shellcheck(tool, script):
    result = tool("shellcheck", script)
    assert result.returncode == 0, result.stdout


def test_shellcheck_fails_a_broken_script(tool, broken_copy):
    broken = broken_copy("scripts/install-tools", 'rm -rf "$venv"', "rm -rf $venv/")
    result = tool("shellcheck", str(broken))
    assert result.returncode != 0 and "SC2086" in result.stdout  # the unquoted $venv
