"""``sluice bundle publish-git``: a built bundle as a commit on a Git branch, tagged with its
version, where Airflow's ``GitDagBundle`` reads it.

Each publication is one commit on the branch (``dags`` by default) whose tree is the bundle:
``dags/...`` and ``manifest.json``, nothing else, so the branch's history is the history of
what Airflow ran. The commit is tagged ``dags-<version>``. Every DAG run records the commit it
was parsed from (its bundle version), so a cleared task runs the code it first ran with.
A version is published once: publishing it again with the same files changes nothing, and with
other files is refused.

The repository is a URL or a path; a path that does not exist yet becomes a new bare
repository (the local stack's ``.stack/dags.git``). The work happens in a scratch clone and
reaches the repository with one ``git push``: the branch and the tag together.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sluice.bundle.build import MANIFEST
from sluice.bundle.verify import BundleError, unpack

DEFAULT_BRANCH = "dags"
#: what Airflow's GitDagBundle reads under the repository's root
SUBDIR = "dags"
TAG_PREFIX = "dags-"
#: who commits a publication (the bundle's own manifest says which source commit it came from)
IDENTITY = {
    "GIT_AUTHOR_NAME": "Sluice bundle",
    "GIT_AUTHOR_EMAIL": "bundle@sluice.local",
    "GIT_COMMITTER_NAME": "Sluice bundle",
    "GIT_COMMITTER_EMAIL": "bundle@sluice.local",
}


class GitPublishError(Exception):
    """A bundle could not be published to Git; the message names the step and the reason."""


@dataclass(frozen=True)
class GitPublished:
    """A publication: the bundle's version, its commit and tag, and whether it was new."""

    version: str
    commit: str
    tag: str
    created: bool


def tag_of(version: str) -> str:
    """The tag a bundle version is published under."""
    return f"{TAG_PREFIX}{version}"


def _git(args: list[str], cwd: Path | None = None) -> str:
    env = {**os.environ, **IDENTITY, "GIT_TERMINAL_PROMPT": "0"}
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
        )
    except OSError as exc:
        raise GitPublishError(f"git could not be run ({exc}); install git") from exc
    if done.returncode != 0:
        raise GitPublishError(f"git {' '.join(args[:2])}: {done.stderr.strip() or done.stdout}")
    return done.stdout.strip()


def _remote_ref(repo: str, ref: str) -> str | None:
    """The commit ``ref`` names in ``repo`` (None when it does not exist)."""
    line = _git(["ls-remote", repo, ref])
    return line.split()[0] if line else None


def is_remote(repo: str) -> bool:
    """Whether ``repo`` is a URL (``scheme://`` or ``git@host:``) rather than a path."""
    return "://" in repo or repo.startswith("git@")


def ensure_repository(repo: str) -> str:
    """``repo`` as git can reach it: an existing path or URL, or a new bare repository made at
    a path that does not exist yet."""
    if is_remote(repo):
        return repo
    path = Path(repo).expanduser().resolve()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        _git(["init", "--quiet", "--bare", str(path)])
    return str(path)


def publish_to_git(archive: Path, repo: str, branch: str = DEFAULT_BRANCH) -> GitPublished:
    """Commit ``archive``'s files as the new tip of ``branch`` of ``repo`` and tag it."""
    repo = ensure_repository(repo)
    with tempfile.TemporaryDirectory(prefix="sluice-bundle-git-") as scratch:
        unpacked, work = Path(scratch) / "bundle", Path(scratch) / "work"
        try:
            manifest = unpack(archive, unpacked)
        except BundleError as exc:
            raise GitPublishError(str(exc)) from exc
        version = str(manifest["version"])
        tag = tag_of(version)
        tagged = _remote_ref(repo, f"refs/tags/{tag}")
        if _remote_ref(repo, f"refs/heads/{branch}"):
            _git(["clone", "--quiet", "--branch", branch, "--single-branch", repo, str(work)])
        else:
            _git(["init", "--quiet", str(work)])
            _git(["checkout", "--quiet", "--orphan", branch], work)
            _git(["remote", "add", "origin", repo], work)
        for entry in work.iterdir():
            if entry.name != ".git":
                shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
        shutil.copytree(unpacked / SUBDIR, work / SUBDIR)
        shutil.copy2(unpacked / MANIFEST, work / MANIFEST)
        _git(["add", "--all"], work)
        changed = bool(_git(["status", "--porcelain"], work))
        if tagged:
            # Published before: the tag must hold exactly these files.
            _git(["fetch", "--quiet", "origin", f"refs/tags/{tag}:refs/tags/{tag}"], work)
            if _git(["write-tree"], work) != _git(["rev-parse", f"{tag}^{{tree}}"], work):
                raise GitPublishError(
                    f"version {version} is already published as {tag} with other files; build "
                    "the bundle again (a new version) instead"
                )
            return GitPublished(version, _git(["rev-parse", f"{tag}^{{commit}}"], work), tag, False)
        if changed:
            source = str(manifest.get("git_sha", "unknown"))[:12]
            _git(["commit", "--quiet", "-m", f"DAG bundle {version} (source {source})"], work)
        _git(["tag", tag], work)
        _git(["push", "--quiet", "origin", f"HEAD:refs/heads/{branch}", f"refs/tags/{tag}"], work)
        return GitPublished(version, _git(["rev-parse", "HEAD"], work), tag, created=True)
