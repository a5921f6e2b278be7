"""``sluice bundle build``: ``dags/`` as a versioned ``.tar.gz`` with a manifest."""

from __future__ import annotations

import io
import json
import subprocess
import tarfile
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version as package_version
from pathlib import Path

from sluice.checksums import sha256_file

MANIFEST = "manifest.json"
#: what a bundle carries: DAG sources and their documentation, never caches or secrets
INCLUDED_SUFFIXES = (".py", ".md", ".sql", ".yaml", ".yml", ".json")


@dataclass(frozen=True)
class BuiltBundle:
    """Where a bundle was written and what it says about itself."""

    path: Path
    manifest: dict


def git_revision(project_dir: Path) -> tuple[str, bool]:
    """(commit sha, whether ``dags/`` has uncommitted changes); ("unknown", False) outside git."""
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=project_dir,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "dags"],
            cwd=project_dir,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown", False
    return sha, bool(dirty)


def bundle_files(dags_dir: Path) -> list[Path]:
    """The files of ``dags_dir`` that go into a bundle, sorted."""
    return sorted(
        p
        for p in dags_dir.rglob("*")
        if p.is_file() and p.suffix in INCLUDED_SUFFIXES and "__pycache__" not in p.parts
    )


def build_bundle(project_dir: Path, out_dir: Path, version: str | None = None) -> BuiltBundle:
    """Write ``sluice-dags-<version>.tar.gz`` (``dags/...`` + ``manifest.json``) to ``out_dir``."""
    dags_dir = project_dir / "dags"
    files = bundle_files(dags_dir)
    if not files:
        raise FileNotFoundError(f"no DAG files under {dags_dir}")
    sha, dirty = git_revision(project_dir)
    created = datetime.now(UTC)
    version = version or f"{created:%Y%m%d%H%M%S}-{sha[:12]}{'-dirty' if dirty else ''}"
    manifest = {
        "name": "sluice-dags",
        "version": version,
        "git_sha": sha,
        "dirty": dirty,
        "created_at": created.isoformat(),
        "airflow_version": package_version("apache-airflow-core"),
        "files": {str(p.relative_to(project_dir)): sha256_file(p) for p in files},
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"sluice-dags-{version}.tar.gz"
    partial = target.with_suffix(".partial")
    with tarfile.open(partial, "w:gz") as archive:
        for path in files:
            archive.add(path, arcname=str(path.relative_to(project_dir)), recursive=False)
        data = json.dumps(manifest, indent=2, sort_keys=True).encode()
        info = tarfile.TarInfo(MANIFEST)
        info.size, info.mtime, info.mode = len(data), int(created.timestamp()), 0o644
        archive.addfile(info, io.BytesIO(data))
    partial.rename(target)
    return BuiltBundle(target, manifest)
