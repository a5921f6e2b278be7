"""The Grafana dashboards and their provisioning: each dashboard has the fields Grafana and the
Helm chart's sidecar need, reads only the `datasource` variable, every PromQL expression
parses (promtool) and names only series
that monitoring/README.md documents; broken copies show each check failing."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

DASHBOARDS = "monitoring/dashboards"
PROVISIONING = "monitoring/grafana/provisioning"
SCRAPE_CONFIG = "monitoring/prometheus/compose.yml"
EXPECTED = {"pipeline-health.json", "crawls.json", "api.json"}
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}

# Words PromQL reserves that the name scan would otherwise take for series.
KEYWORDS = {
    "and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
    "bool", "offset", "atan2", "inf", "nan",
}  # fmt: skip
# Grafana fills these in before Prometheus sees the query; PromQL alone has no `$`.
DURATION_VARIABLES = {"__interval", "__rate_interval", "__range"}


# --- reading dashboards -----------------------------------------------------------------------


def dashboard_files(project: Path) -> list[Path]:
    return sorted((project / DASHBOARDS).glob("*.json"))


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def all_panels(dashboard: dict) -> Iterator[dict]:
    """Every panel, including those inside collapsed rows."""
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def variable_expressions(variable: dict) -> list[str]:
    """The PromQL inside a query variable: label_values' selector, or query_result's query."""
    query = variable.get("query")
    if isinstance(query, dict):
        query = query.get("query", "")
    if variable.get("type") != "query" or not query:
        return []
    if found := re.fullmatch(r"\s*label_values\((.+),\s*\w+\s*\)\s*", query, re.DOTALL):
        return [found.group(1)]
    if found := re.fullmatch(r"\s*query_result\((.+)\)\s*", query, re.DOTALL):
        return [found.group(1)]
    return []  # label_values(label), label_names(), metrics(...): no series named


def expressions(dashboard: dict) -> list[tuple[str, str]]:
    """(where, PromQL) for every target and query variable of a dashboard."""
    found = []
    for panel in all_panels(dashboard):
        for target in panel.get("targets", []):
            where = f"panel {panel.get('id')} {panel.get('title')!r} {target.get('refId')}"
            found.append((where, target.get("expr", "")))
    for variable in dashboard.get("templating", {}).get("list", []):
        for expr in variable_expressions(variable):
            found.append((f"variable {variable['name']}", expr))
    return found


def as_promql(expr: str) -> str:
    """The query as Prometheus receives it: Grafana's variables replaced by plausible values."""

    def value(match: re.Match) -> str:
        name = match.group(1) or match.group(2)
        return "5m" if name in DURATION_VARIABLES else ".*"

    return re.sub(r"\$(?:\{(\w+)(?::\w+)?\}|(\w+))", value, expr)


# --- checking PromQL --------------------------------------------------------------------------


def promtool_errors(promtool: str, queries: list[tuple[str, str]], folder: Path) -> str:
    """promtool's complaints about the queries, each wrapped in a recording rule."""
    groups = [
        {"name": where, "rules": [{"record": "dashboard_expression", "expr": as_promql(expr)}]}
        for where, expr in queries
    ]
    rules = folder / "dashboards.rules.yml"
    rules.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False), encoding="utf-8")
    result = subprocess.run(
        [promtool, "check", "rules", str(rules)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return "" if result.returncode == 0 else result.stdout + result.stderr


def metric_names(expr: str) -> set[str]:
    """The series a PromQL expression selects (by name; `{__name__=...}` is not followed)."""
    text = re.sub(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|`[^`]*`', '""', as_promql(expr))
    text = re.sub(r"\{[^{}]*\}", " ", text)  # label matchers
    text = re.sub(r"\[[^\[\]]*\]", " ", text)  # ranges and subqueries
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)", " ", text)
    text = re.sub(r"\boffset\s+-?\w+", " ", text)
    names = set()
    for match in re.finditer(r"[A-Za-z_:][\w:]*", text):
        if match.start() and (text[match.start() - 1].isdigit() or text[match.start() - 1] == "."):
            continue  # the exponent or unit of a number: 1e3, 26h
        if text[match.end() :].lstrip().startswith("("):
            continue  # a function or an aggregation
        if match.group().lower() not in KEYWORDS:
            names.add(match.group())
    return names


def documented_series(readme: str) -> tuple[dict[str, str], tuple[str, ...]]:
    """README's series table: exact names with their type, and the prefixes of `name_*` rows."""
    names, prefixes = {}, []
    for line in readme.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not line.lstrip().startswith("|") or len(cells) < 2:
            continue
        found = re.fullmatch(r"`([A-Za-z_:][\w:]*)(\*?)`", cells[0])
        if not found:
            continue
        if found.group(2):
            prefixes.append(found.group(1))
        else:
            names[found.group(1)] = cells[1]
    return names, tuple(prefixes)


def unknown_metrics(dashboard: dict, names: dict[str, str], prefixes: tuple[str, ...]) -> set[str]:
    """Series a dashboard reads that no exporter documented in the README serves."""
    unknown = set()
    for _, expr in expressions(dashboard):
        for name in metric_names(expr):
            base = re.sub(r"_(?:bucket|sum|count)$", "", name)
            if name in names or name.startswith(prefixes):
                continue
            if names.get(base) in ("histogram", "summary"):
                continue  # the series Prometheus derives from one histogram or summary
            unknown.add(name)
    return unknown


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dashboards(settings) -> dict[str, dict]:
    return {path.name: load(path) for path in dashboard_files(settings.project_dir)}


@pytest.fixture(scope="module")
def documented(settings) -> tuple[dict[str, str], tuple[str, ...]]:
    readme = (settings.project_dir / "monitoring" / "README.md").read_text(encoding="utf-8")
    return documented_series(readme)


@pytest.fixture(scope="module")
def compose(settings) -> dict:
    return yaml.safe_load((settings.project_dir / "docker-compose.yaml").read_text())


def broken_dashboard(settings, tmp_path: Path, name: str, old: str, new: str) -> dict:
    """A dashboard with one text replaced (the replacement must apply)."""
    text = (settings.project_dir / DASHBOARDS / name).read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {name}"
    target = tmp_path / name
    target.write_text(text.replace(old, new, 1), encoding="utf-8")
    return load(target)


# --- dashboards -------------------------------------------------------------------------------


def test_the_three_dashboards_exist(settings):
    names = {path.name for path in dashboard_files(settings.project_dir)}
    assert names >= EXPECTED, EXPECTED - names
    # The chart turns each file name into a ConfigMap key, which allows only these characters.
    assert all(re.fullmatch(r"[-._a-zA-Z0-9]+", name) for name in names)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_dashboard_has_the_required_fields(dashboards, name):
    board = dashboards[name]
    assert board["schemaVersion"] == 39
    assert re.fullmatch(r"[a-z0-9-]{1,40}", board["uid"]), "uid: fixed, at most 40 characters"
    assert board["title"].strip()
    assert "sluice" in board["tags"]
    assert board["time"] == {"from": "now-6h", "to": "now"}
    assert board["refresh"] == "30s"
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    # Grafana assigns its own id on import; a fixed one would overwrite another dashboard.
    assert board.get("id") is None


def test_dashboard_uids_and_titles_are_unique(dashboards):
    uids = [board["uid"] for board in dashboards.values()]
    titles = [board["title"] for board in dashboards.values()]
    assert len(set(uids)) == len(uids), uids
    assert len(set(titles)) == len(titles), titles


def datasource_references(node: object, path: str = "") -> Iterator[tuple[str, object]]:
    """Every `datasource` value anywhere in a dashboard."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "datasource":
                yield path, value
            yield from datasource_references(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from datasource_references(value, f"{path}/{index}")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_panels_query_prometheus_through_the_datasource_variable(dashboards, name):
    board = dashboards[name]
    # A data source uid differs between Grafanas: the dashboard must name none.
    for path, reference in datasource_references(board):
        assert reference == DATASOURCE, f"{path}: {reference}"
    panels = list(all_panels(board))
    ids = [panel["id"] for panel in panels]
    assert len(set(ids)) == len(ids), "panel ids repeat"
    for panel in panels:
        if panel["type"] == "row":
            continue
        assert panel["title"].strip()
        assert panel.get("datasource") == DATASOURCE, panel["title"]
        targets = panel.get("targets")
        assert targets, f"{panel['title']} has no query"
        refs = [target["refId"] for target in targets]
        assert len(set(refs)) == len(refs), f"{panel['title']}: refIds repeat"
        for target in targets:
            assert target.get("expr", "").strip(), f"{panel['title']} {target['refId']}"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_panels_fit_the_grid_without_overlapping(dashboards, name):
    taken: dict[tuple[int, int], str] = {}
    for panel in dashboards[name]["panels"]:
        grid = panel["gridPos"]
        assert grid["w"] > 0 and grid["h"] > 0 and grid["x"] + grid["w"] <= 24, panel["title"]
        for x in range(grid["x"], grid["x"] + grid["w"]):
            for y in range(grid["y"], grid["y"] + grid["h"]):
                assert (x, y) not in taken, f"{panel['title']} overlaps {taken[(x, y)]}"
                taken[(x, y)] = panel["title"]


# --- PromQL -----------------------------------------------------------------------------------


def test_every_expression_parses(dashboards, promtool, tmp_path):
    queries = [(f"{name} {where}", expr) for name, b in dashboards.items()
               for where, expr in expressions(b)]  # fmt: skip
    assert queries
    assert promtool_errors(promtool, queries, tmp_path) == ""


def test_a_broken_expression_fails_to_parse(settings, promtool, tmp_path):
    board = broken_dashboard(
        settings,
        tmp_path,
        "pipeline-health.json",
        "sum by (group) (sluice_processor_consumer_lag)",
        "sum by (group) (sluice_processor_consumer_lag",
    )
    errors = promtool_errors(promtool, expressions(board), tmp_path)
    assert "Consumer lag by group" in errors


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        ('histogram_quantile(0.99, sum by (le) (rate(a_bucket{b="c(d"}[$__rate_interval])))',
         {"a_bucket"}),
        ("count(a == 0) or vector(0)", {"a"}),
        ("time() - max(b_seconds) > 26 * 3600", {"b_seconds"}),
        ("sum(rate(c[1h] offset 1d)) by (job) * 60 / on (job) group_left d", {"c", "d"}),
        ("up", {"up"}),
    ],
)  # fmt: skip
def test_metric_names_are_read_from_expressions(expr, names):
    assert metric_names(expr) == names


def test_the_readme_table_is_read(documented):
    names, prefixes = documented
    assert names["sluice_processor_batch_duration_seconds"] == "histogram"
    assert names["up"] == "gauge"
    assert set(prefixes) == {"airflow_", "pg_", "redis_"}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_dashboards_read_only_documented_series(dashboards, documented, name):
    assert unknown_metrics(dashboards[name], *documented) == set()


def test_a_dashboard_reading_an_undocumented_series_fails(settings, documented, tmp_path):
    board = broken_dashboard(
        settings,
        tmp_path,
        "pipeline-health.json",
        "sum by (group) (sluice_processor_consumer_lag)",
        "sum by (group) (sluice_processor_consumer_lagg)",
    )
    assert unknown_metrics(board, *documented) == {"sluice_processor_consumer_lagg"}


# --- provisioning -----------------------------------------------------------------------------


def mounts(service: dict) -> dict[str, str]:
    """A Compose service's bind mounts: container path -> host path."""
    found = {}
    for volume in service.get("volumes", []):
        source, target, *_ = volume.split(":")
        if source.startswith("."):
            found[target] = source.removeprefix("./").rstrip("/")
    return found


def test_grafana_provisions_the_dashboards_folder(settings, compose):
    grafana = mounts(compose["services"]["grafana"])
    assert grafana.get("/etc/grafana/provisioning") == PROVISIONING
    folder = settings.project_dir / PROVISIONING / "dashboards"
    providers = [
        provider
        for path in sorted(folder.glob("*.yml"))
        for provider in yaml.safe_load(path.read_text())["providers"]
    ]
    assert providers
    for provider in providers:
        assert provider["type"] == "file"
        assert grafana.get(provider["options"]["path"]) == DASHBOARDS, provider["name"]


def test_grafana_provisions_the_default_prometheus(settings, compose):
    folder = settings.project_dir / PROVISIONING / "datasources"
    sources = [
        source
        for path in sorted(folder.glob("*.yml"))
        for source in yaml.safe_load(path.read_text())["datasources"]
    ]
    # The dashboards' `datasource` variable (query "prometheus") starts on the default one.
    defaults = [source for source in sources if source.get("isDefault")]
    assert len(defaults) == 1 and defaults[0]["type"] == "prometheus", sources
    host_port = re.fullmatch(r"http://([\w-]+):(\d+)/?", defaults[0]["url"])
    assert host_port, defaults[0]["url"]
    assert host_port.group(1) in compose["services"]
    assert compose["services"][host_port.group(1)]["image"].startswith("prom/prometheus:")
    assert host_port.group(2) == "9090"
    # $__rate_interval spans four scrapes only if Grafana knows the scrape interval.
    scrape = yaml.safe_load((settings.project_dir / SCRAPE_CONFIG).read_text())
    assert defaults[0]["jsonData"]["timeInterval"] == scrape["global"]["scrape_interval"]
