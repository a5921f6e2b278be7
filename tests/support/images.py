"""What each target of the Dockerfile installs, and which distributions the code it carries
imports; both read offline (no Docker engine), so tests can compare the two.

The Dockerfile side follows the stages as Docker builds them: the ``pip install`` and
``pip wheel`` commands of a stage (requirements named on the line, ``-r`` files copied from the
checkout, wheels copied from another stage), each with the dependencies pip would install with
it, read from the metadata of this environment, which `make venv` installs from the same
requirements.txt and constraints.txt. The code side walks the import statements with ``ast``
and names the distribution that ships each imported module.
"""

from __future__ import annotations

import ast
import fnmatch
import re
import shlex
import sys
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import PackageNotFoundError, distribution, packages_distributions
from pathlib import Path, PurePosixPath

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

# pip options that take a value, so the value is not read as a requirement or a path.
PIP_VALUE_OPTIONS = {
    "-r", "--requirement", "-c", "--constraint", "-f", "--find-links", "-w", "--wheel-dir",
    "-i", "--index-url", "--extra-index-url", "-t", "--target", "--prefix", "--root",
    "--progress-bar", "--platform", "--python-version", "--implementation", "--abi",
}  # fmt: skip


@dataclass(frozen=True)
class Stage:
    """One ``FROM ... AS name`` section of a Dockerfile: its instructions as (keyword, args)."""

    name: str
    instructions: tuple[tuple[str, str], ...]

    def arguments(self, keyword: str) -> list[str]:
        """The arguments of every instruction ``keyword`` (``RUN``, ``COPY``), in order."""
        return [args for kw, args in self.instructions if kw == keyword]


@dataclass
class PipCommand:
    """One ``pip install`` or ``pip wheel`` of a RUN instruction, sorted into its parts."""

    subcommand: str
    requirements: list[str] = field(default_factory=list)
    requirement_files: list[str] = field(default_factory=list)
    constraint_files: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    wheel_dirs: list[str] = field(default_factory=list)
    no_deps: bool = False


def instructions(text: str) -> Iterator[tuple[str, str]]:
    """The Dockerfile's instructions with continuation lines joined and comments dropped (Docker
    drops comment lines even inside a continued instruction)."""
    pending = ""
    for line in text.splitlines():
        if not line.strip() or line.strip().startswith("#"):
            continue
        pending += line.rstrip().removesuffix("\\") + " "
        if not line.rstrip().endswith("\\"):
            keyword, _, args = pending.strip().partition(" ")
            yield keyword.upper(), args.strip()
            pending = ""


def stages(text: str) -> dict[str, Stage]:
    """The named stages of a Dockerfile, by name."""
    found: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] | None = None
    for keyword, args in instructions(text):
        if keyword == "FROM":
            match = re.search(r"\bAS\s+(\S+)$", args, re.IGNORECASE)
            current = found.setdefault(match.group(1) if match else args, [])
        elif current is not None:
            current.append((keyword, args))
    return {name: Stage(name, tuple(found[name])) for name in found}


def commands(stage: Stage) -> Iterator[list[str]]:
    """Each shell command of the stage's RUN instructions, split into words."""
    for run in stage.arguments("RUN"):
        for command in re.split(r"&&|\|\||;", run):
            if words := shlex.split(command):
                yield words


def apt_packages(stage: Stage) -> set[str]:
    """The Debian packages the stage's ``apt-get install`` commands name."""
    packages: set[str] = set()
    for words in commands(stage):
        if words[:2] == ["apt-get", "install"]:
            packages.update(word.split("=")[0] for word in words[2:] if not word.startswith("-"))
    return packages


def pip_commands(stage: Stage) -> Iterator[PipCommand]:
    """The stage's ``pip install`` and ``pip wheel`` commands."""
    for words in commands(stage):
        program, subcommand = words[0].rsplit("/", 1)[-1], words[1:2]
        if program in ("pip", "pip3") and subcommand in (["install"], ["wheel"]):
            yield parse_pip(subcommand[0], words[2:])


def parse_pip(subcommand: str, words: list[str]) -> PipCommand:
    """Sort a pip command's words into requirements, -r and -c files, paths and --no-deps."""
    parsed = PipCommand(subcommand)
    targets = {"-r": parsed.requirement_files, "--requirement": parsed.requirement_files,
               "-c": parsed.constraint_files, "--constraint": parsed.constraint_files,
               "-w": parsed.wheel_dirs, "--wheel-dir": parsed.wheel_dirs}  # fmt: skip
    values = iter(words)
    for word in values:
        option, has_value, value = word.partition("=")
        if word.startswith("-") and option in PIP_VALUE_OPTIONS:
            value = value if has_value else next(values)
            targets.get(option, []).append(value)
        elif word == "--no-deps":
            parsed.no_deps = True
        elif word.startswith("-"):
            continue
        elif "/" in word or word.startswith("."):
            parsed.paths.append(word)
        else:
            parsed.requirements.append(word)
    return parsed


def requirement_name(spec: str) -> tuple[str, frozenset[str]]:
    """The canonical name and extras of a requirement; a version from a build variable
    (``apache-airflow==${AIRFLOW_VERSION}``) is set by Docker, so only the name is read."""
    requirement = Requirement(re.sub(r"\$\{?\w+\}?", "0", spec))
    return canonicalize_name(requirement.name), frozenset(requirement.extras)


def requirement_file(path: Path) -> list[str]:
    """The requirements a requirements file names (comments and blank lines dropped)."""
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split(" #", 1)[0].strip()
        if line.startswith("-"):
            raise ValueError(f"{path}: options ({line}) are not read by this check")
        if line and not line.startswith("#"):
            found.append(line)
    return found


def copied_file(stage: Stage, container_path: str, project_dir: Path) -> Path:
    """The checkout file a stage copied to ``container_path`` (matched by file name), so a
    ``-r`` file the stage never copied fails instead of being read from the checkout."""
    name = PurePosixPath(container_path).name
    for args in stage.arguments("COPY"):
        words = args.split()
        if any(word.startswith("--from=") for word in words):
            continue
        sources = [word for word in words if not word.startswith("--")][:-1]
        if any(PurePosixPath(source).name == name for source in sources):
            return project_dir / next(s for s in sources if PurePosixPath(s).name == name)
    raise LookupError(f"stage {stage.name} uses {container_path} but does not copy it")


def with_dependencies(named: Iterable[tuple[str, frozenset[str]]], project_dir: Path) -> set[str]:
    """The distributions pip installs for ``named``: each with its dependencies (and those of
    the extras asked for) whose markers hold for this Python."""
    seen: set[tuple[str, frozenset[str]]] = set()
    pending = list(named)
    while pending:
        name, extras = pending.pop()
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        pending.extend(dependencies(name, extras, project_dir))
    return {name for name, _ in seen}


def dependencies(
    name: str, extras: frozenset[str], project_dir: Path
) -> list[tuple[str, frozenset[str]]]:
    """The direct dependencies of distribution ``name`` with ``extras``: the project's from
    the checkout's pyproject.toml (the environment may hold another checkout's metadata),
    any other's from its installed metadata."""
    declared = declared_requirements(name, project_dir)
    found = []
    for line in declared:
        requirement = Requirement(line)
        marker = requirement.marker
        if marker is None or any(marker.evaluate({"extra": e}) for e in {"", *extras}):
            found.append((canonicalize_name(requirement.name), frozenset(requirement.extras)))
    return found


def declared_requirements(name: str, project_dir: Path) -> list[str]:
    """The requirement lines distribution ``name`` declares."""
    if name == canonicalize_name(project(project_dir)["project"]["name"]):
        return project(project_dir)["project"].get("dependencies", [])
    try:
        return distribution(name).requires or []
    except PackageNotFoundError as exc:
        raise LookupError(f"{name} is not installed here: `make venv` installs it") from exc


def project(project_dir: Path) -> dict:
    """pyproject.toml's tables."""
    return tomllib.loads((project_dir / "pyproject.toml").read_text(encoding="utf-8"))


def own_packages(project_dir: Path) -> set[str]:
    """The top-level packages the project ships (pyproject's setuptools ``include``)."""
    include = project(project_dir)["tool"]["setuptools"]["packages"]["find"]["include"]
    return {pattern.rstrip("*") for pattern in include}


def installed(text: str, target: str, project_dir: Path) -> set[str]:
    """Canonical names of the distributions the Dockerfile ``text`` installs in ``target``;
    what the base image brings is not counted, so the target names what its code needs."""
    found = stages(text)
    names: set[str] = set()
    for command in pip_commands(found[target]):
        if command.subcommand == "install":
            names |= pip_installs(found, found[target], command, project_dir)
    return names


def pip_installs(
    found: dict[str, Stage], stage: Stage, command: PipCommand, project_dir: Path
) -> set[str]:
    """The distributions one pip command of ``stage`` installs (or builds wheels of)."""
    named = [requirement_name(spec) for spec in command.requirements]
    for path in command.requirement_files:
        lines = requirement_file(copied_file(stage, path, project_dir))
        named.extend(requirement_name(line) for line in lines)
    for path in command.paths:
        named.extend((name, frozenset()) for name in path_installs(found, stage, path, project_dir))
    if command.no_deps:
        return {name for name, _ in named}
    return with_dependencies(named, project_dir)


def path_installs(found: dict[str, Stage], stage: Stage, path: str, project_dir: Path) -> set[str]:
    """What a path argument installs: ``.`` is the project; a wheel pattern in a folder copied
    from another stage matches the wheels that stage's ``pip wheel`` wrote to that folder."""
    if path in (".", "./"):
        return {canonicalize_name(project(project_dir)["project"]["name"])}
    for args in stage.arguments("COPY"):
        words = args.split()
        origin = next((w.removeprefix("--from=") for w in words if w.startswith("--from=")), "")
        source, target = [w for w in words if not w.startswith("--")][-2:]
        if origin and path.startswith(target.rstrip("/") + "/"):
            wheels = built_wheels(found, found[origin], source.rstrip("/"), project_dir)
            pattern = PurePosixPath(path).name
            return {name for name in wheels if wheel_matches(name, pattern)}
    raise LookupError(f"stage {stage.name}: {path} is neither the project nor copied wheels")


def built_wheels(found: dict[str, Stage], stage: Stage, folder: str, project_dir: Path) -> set[str]:
    """The distributions the ``pip wheel`` commands of ``stage`` wrote wheels of to ``folder``
    (without --no-deps, pip writes a wheel for every dependency as well)."""
    names: set[str] = set()
    for command in pip_commands(stage):
        if command.subcommand == "wheel" and folder in command.wheel_dirs:
            names |= pip_installs(found, stage, command, project_dir)
    return names


def wheel_matches(name: str, pattern: str) -> bool:
    """Whether a wheel of distribution ``name`` (its file name begins with the name, ``-``
    written ``_``) matches a file pattern such as ``sluice-*.whl``."""
    return fnmatch.fnmatch(f"{name.replace('-', '_')}-0-py3-none-any.whl", pattern)


def python_files(project_dir: Path, roots: Iterable[str]) -> list[Path]:
    """The Python files under the ``roots`` folders of the checkout."""
    return sorted(path for root in roots for path in (project_dir / root).rglob("*.py"))


def imports(path: Path) -> dict[str, set[str]]:
    """The absolute modules a file imports, at any depth (lazy imports inside functions run in
    the image as well), each with the names ``from module import ...`` takes from it."""
    found: dict[str, set[str]] = {}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.setdefault(alias.name, set())
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.setdefault(node.module, set()).update(alias.name for alias in node.names)
    return found


def module_files(project_dir: Path, module: str) -> list[Path]:
    """The checkout files Python runs to import ``module``: the ``__init__.py`` of each package
    on the way and the module itself; empty when ``module`` is no file of the checkout."""
    parts = module.split(".")
    files = []
    for depth in range(1, len(parts) + 1):
        base = project_dir.joinpath(*parts[:depth])
        files.extend(
            path for path in (base / "__init__.py", base.with_suffix(".py")) if path.is_file()
        )
    return files


def code_closure(project_dir: Path, roots: Iterable[str]) -> list[Path]:
    """The files under ``roots`` and every project file they import, transitively: a plugin
    that imports ``processors.redrive`` needs that module's imports in the image too."""
    own = own_packages(project_dir)
    pending = python_files(project_dir, roots)
    seen: set[Path] = set()
    while pending:
        path = pending.pop()
        if path in seen:
            continue
        seen.add(path)
        for module, names in imports(path).items():
            if module.split(".")[0] in own:
                pending.extend(module_files(project_dir, module))
                # ``from api import keys`` imports the module api/keys.py when there is one.
                for name in names:
                    pending.extend(module_files(project_dir, f"{module}.{name}"))
    return sorted(seen)


@cache
def shipped_modules(name: str) -> frozenset[str]:
    """The dotted names of the modules distribution ``name`` installs."""
    modules = set()
    for file in distribution(name).files or []:
        parts = list(PurePosixPath(str(file)).parts)
        if not re.search(r"\.(py|so)$", parts[-1]):
            continue
        parts[-1] = parts[-1].split(".")[0]
        if parts[-1] == "__init__":
            parts.pop()
        modules.add(".".join(parts))
    return frozenset(modules)


@cache
def top_level_owners() -> dict[str, list[str]]:
    """packages_distributions(), read once: it reads the file list of every distribution."""
    return packages_distributions()


def distribution_of(module: str) -> str | None:
    """The distribution that ships ``module``: packages_distributions() for a top-level name
    one distribution owns; for a namespace several share (``airflow``: the core, the task SDK,
    the providers), the one that ships the longest leading part of the dotted name."""
    owners = sorted(set(top_level_owners().get(module.split(".")[0], [])))
    if len(owners) <= 1:
        return owners[0] if owners else None
    parts = module.split(".")
    for depth in range(len(parts), 0, -1):
        prefix = ".".join(parts[:depth])
        shipping = [owner for owner in owners if prefix in shipped_modules(owner)]
        if len(shipping) > 1:
            raise LookupError(f"{prefix} is shipped by each of {', '.join(shipping)}")
        if shipping:
            return shipping[0]
    return None


def needed(project_dir: Path, roots: Iterable[str]) -> dict[str, set[str]]:
    """The distributions the code under ``roots`` and the project code it imports needs, by
    canonical name, each with the modules that need it. The standard library and the
    project's own packages are left out; a module no installed distribution ships is listed
    under ``?``, so it fails a comparison instead of vanishing."""
    own = own_packages(project_dir)
    found: dict[str, set[str]] = {}
    for path in code_closure(project_dir, roots):
        for module in imports(path):
            top = module.split(".")[0]
            if top in own or top in sys.stdlib_module_names:
                continue
            owner = distribution_of(module)
            found.setdefault(canonicalize_name(owner) if owner else "?", set()).add(module)
    return found
