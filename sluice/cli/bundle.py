"""``sluice bundle build / publish / publish-git / verify``: versioned DAG bundles for CI and
deployment."""

from __future__ import annotations

import json
import sys
import tarfile
from pathlib import Path

import click

from sluice.settings import Settings


@click.group()
def bundle() -> None:
    """Build and verify DAG bundles (an archive of dags/ with a manifest)."""


@bundle.command("build")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), help="Default: dist/.")
@click.option("--version", "version", help="Default: <UTC timestamp>-<git sha>.")
@click.pass_obj
def build_command(settings: Settings, out_dir: Path | None, version: str | None) -> None:
    """Write dist/sluice-dags-VERSION.tar.gz; print its path as the last word."""
    from sluice.bundle.build import build_bundle

    try:
        out = out_dir or settings.project_dir / "dist"
        built = build_bundle(settings.project_dir, out, version)
    except FileNotFoundError as exc:
        raise click.ClickException(str(exc)) from exc
    manifest = built.manifest
    click.echo(
        f"bundle {manifest['version']} (git {manifest['git_sha'][:12]}"
        f"{', uncommitted changes' if manifest['dirty'] else ''}): "
        f"{len(manifest['files'])} files",
        err=True,
    )
    click.echo(str(built.path))


@bundle.command("publish")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--prefix",
    default="sluice-dags/current",
    show_default=True,
    help="Where Airflow's S3DagBundle reads (the chart: sluice-dags/staging in staging).",
)
@click.pass_obj
def publish_command(settings: Settings, archive: Path, prefix: str) -> None:
    """Upload ARCHIVE to SLUICE_BUNDLE_BUCKET as the release Airflow's S3DagBundle reads."""
    from sluice.bundle.publish import publish_bundle
    from sluice.storage.objects import ObjectStore, ObjectStoreError

    try:
        published = publish_bundle(ObjectStore(settings), settings.bundle_bucket, archive, prefix)
    except (ObjectStoreError, tarfile.TarError, KeyError, OSError) as exc:
        raise click.ClickException(f"bundle {archive} not published: {exc}") from exc
    click.echo(
        f"published {published.version}: {published.files} files to {published.uri} "
        f"({published.removed} stale removed)"
    )


@bundle.command("publish-git")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--repo",
    help="Repository URL or path (a new path becomes a bare repository). "
    "Default: SLUICE_DAG_BUNDLE_GIT_URL.",
)
@click.option("--branch", help="Default: SLUICE_DAG_BUNDLE_GIT_BRANCH (dags).")
@click.pass_obj
def publish_git_command(
    settings: Settings, archive: Path, repo: str | None, branch: str | None
) -> None:
    """Commit ARCHIVE's DAG files as the new tip of a Git branch, tagged dags-VERSION, where
    Airflow's GitDagBundle reads them (SLUICE_DAG_BUNDLE_GIT_URL)."""
    from dataclasses import replace

    from sluice.airflow_local import git_repository
    from sluice.bundle.git import GitPublishError, publish_to_git

    target = repo or settings.dag_bundle_git_url
    if not target:
        raise click.UsageError("name the repository: --repo URL, or SLUICE_DAG_BUNDLE_GIT_URL")
    try:
        published = publish_to_git(
            archive,
            git_repository(replace(settings, dag_bundle_git_url=target)),
            branch or settings.dag_bundle_git_branch,
        )
    except GitPublishError as exc:
        raise click.ClickException(f"bundle {archive} not published: {exc}") from exc
    state = "published" if published.created else "already published"
    click.echo(f"{state} {published.version}: {published.tag} at {published.commit[:12]}")


@bundle.command("verify")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True)
def verify_command(archive: Path, as_json: bool) -> None:
    """Load ARCHIVE in a clean Airflow; exit 1 on an import error, a cycle, a missing owner,
    tags or retries, or a file slower than 2 s to import."""
    from sluice.bundle.verify import BundleError, verify_bundle

    try:
        verdict = verify_bundle(archive)
    except BundleError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(verdict.__dict__ | {"ok": verdict.ok}, indent=2))
    else:
        click.echo(f"bundle {verdict.manifest.get('version')}: {len(verdict.dags)} DAGs")
        for name, seconds in sorted(verdict.timings.items()):
            click.echo(f"  {name:<40} imported in {seconds:.2f}s")
        for problem in verdict.problems:
            click.echo(f"  PROBLEM {problem}")
        click.echo("OK" if verdict.ok else f"FAILED: {len(verdict.problems)} problem(s)")
    sys.exit(0 if verdict.ok else 1)
