"""Rendering the `helm/sluice` chart offline, for the chart's own tests and for running what it
renders as local processes."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml

CHART = Path("helm/sluice")
RELEASE = "sluice"
NAMESPACE = "sluice"
#: the Kubernetes version the chart is rendered for (helm's default, pinned for the tests)
KUBERNETES_VERSION = "1.32.0"


def chart_copy(source: Path, root: Path, monitoring: Path) -> Path:
    """``root/helm/sluice``: the chart without its dependencies, ``monitoring`` linked beside it.

    The chart's own relative link (``monitoring -> ../../monitoring``) is kept as a link, so
    it resolves to ``root/monitoring``, itself a link to ``monitoring``.
    """
    chart = root / "helm" / "sluice"
    shutil.copytree(source, chart, symlinks=True)
    (root / "monitoring").symlink_to(monitoring.resolve(), target_is_directory=True)
    chart_yaml = chart / "Chart.yaml"
    meta = yaml.safe_load(chart_yaml.read_text(encoding="utf-8"))
    meta.pop("dependencies", None)
    chart_yaml.write_text(yaml.safe_dump(meta, sort_keys=False), encoding="utf-8")
    return chart


def template_args(chart: Path, *args: str) -> list[str]:
    """The arguments of ``helm template`` for the chart (after the helm binary)."""
    return ["template", RELEASE, str(chart), "--namespace", NAMESPACE,
            "--kube-version", KUBERNETES_VERSION, *args]  # fmt: skip


def render(helm: Path, chart: Path, *args: str) -> list[dict]:
    """The chart's manifests as `helm template` renders them; fails with helm's message."""
    result = subprocess.run(
        [str(helm), *template_args(chart, *args)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return documents(result.stdout)


def documents(text: str) -> list[dict]:
    """The YAML documents of a rendered manifest stream."""
    return [doc for doc in yaml.safe_load_all(text) if doc]


def of_kind(manifests: list[dict], kind: str) -> list[dict]:
    """The manifests of one kind."""
    return [m for m in manifests if m["kind"] == kind]


def named(manifests: list[dict], kind: str, name: str) -> dict:
    """The one manifest of ``kind`` called ``name``."""
    found = [m for m in of_kind(manifests, kind) if m["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
    return found[0]
