"""``sluice bundle verify ARCHIVE``: unpack a bundle and load it in a clean Airflow."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from sluice.bundle.build import MANIFEST
from sluice.checksums import sha256_file


class BundleError(Exception):
    """The archive is not a bundle, or it does not match its manifest."""


@dataclass
class Verdict:
    """The outcome of verifying one bundle."""

    manifest: dict
    dags: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No problem found."""
        return not self.problems


def unpack(archive: Path, into: Path) -> dict:
    """Extract ``archive`` into ``into`` and check every file against the manifest."""
    try:
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(into, filter="data")
    except (tarfile.TarError, OSError) as exc:
        raise BundleError(f"{archive}: not a readable .tar.gz bundle ({exc})") from exc
    manifest_file = into / MANIFEST
    if not manifest_file.is_file():
        raise BundleError(f"{archive}: no {MANIFEST}; build bundles with `sluice bundle build`")
    manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    for name, expected in manifest.get("files", {}).items():
        path = into / name
        if not path.is_file():
            raise BundleError(f"{archive}: {name} is in the manifest but not in the archive")
        if sha256_file(path) != expected:
            raise BundleError(f"{archive}: {name} does not match its manifest hash")
    extra = {
        str(p.relative_to(into))
        for p in (into / "dags").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    } - set(manifest.get("files", {}))
    if extra:
        raise BundleError(f"{archive}: files not in the manifest: {', '.join(sorted(extra))}")
    return manifest


def verify_bundle(archive: Path, timeout: float = 300) -> Verdict:
    """Unpack, check hashes, then import every DAG file in a fresh Airflow home."""
    with tempfile.TemporaryDirectory(prefix="sluice-bundle-") as tmp:
        root = Path(tmp)
        manifest = unpack(archive, root / "bundle")
        # A clean Airflow: its own empty home and no metadata database to lean on.
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("AIRFLOW__", "AIRFLOW_CONN_", "AIRFLOW_HOME"))
        }
        env |= {
            "AIRFLOW_HOME": str(root / "airflow"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "True",
        }
        result = subprocess.run(
            [sys.executable, "-m", "sluice.bundle.inspect", str(root / "bundle" / "dags")],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    if result.returncode != 0:
        tail = "\n".join(result.stderr.strip().splitlines()[-10:])
        return Verdict(manifest, problems=[f"the DAG loader failed: {tail}"])
    report = json.loads(result.stdout.strip().splitlines()[-1])
    return Verdict(
        manifest,
        dags=sorted(report["dags"]),
        timings={name: info["seconds"] for name, info in report["files"].items()},
        problems=report["problems"],
    )
