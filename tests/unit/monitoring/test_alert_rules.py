"""The alert rules, checked and unit-tested by promtool (Debian's prometheus package): every
alert has a test that shows it firing and one that shows it quiet, and broken copies fail."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml

RULES = "monitoring/rules"


def run(promtool: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [promtool, *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def rule_files(project: Path) -> list[Path]:
    return sorted((project / RULES).glob("*.rules.yml"))


def test_every_rule_file_passes_promtool_check(promtool, settings):
    files = rule_files(settings.project_dir)
    assert files
    result = run(promtool, "check", "rules", *map(str, files), cwd=settings.project_dir)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_rule_unit_tests_pass(promtool, settings):
    tests = sorted((settings.project_dir / RULES / "tests").glob("*.test.yml"))
    assert tests
    result = run(promtool, "test", "rules", *map(str, tests), cwd=settings.project_dir)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_is_tested_firing_and_quiet(settings):
    alerts = {
        rule["alert"]
        for path in rule_files(settings.project_dir)
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
        if "alert" in rule
    }
    firing, quiet = set(), set()
    for path in (settings.project_dir / RULES / "tests").glob("*.test.yml"):
        for case in yaml.safe_load(path.read_text())["tests"]:
            for check in case.get("alert_rule_test", []):
                (firing if check.get("exp_alerts") else quiet).add(check["alertname"])
    assert alerts - firing == set(), "never shown firing"
    assert alerts - quiet == set(), "never shown quiet"


def copy_rules(settings, tmp_path: Path, old: str, new: str) -> Path:
    """The rules folder in ``tmp_path`` with one text of the rule file replaced."""
    target = tmp_path / "rules"
    shutil.copytree(settings.project_dir / RULES, target)
    path = target / "sluice.rules.yml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    return target


def test_a_rule_with_broken_promql_fails_the_check(promtool, settings, tmp_path):
    broken = copy_rules(settings, tmp_path, "pg_up == 0", "pg_up == == 0")
    result = run(promtool, "check", "rules", str(broken / "sluice.rules.yml"), cwd=tmp_path)
    assert result.returncode != 0
    assert "parse error" in result.stdout + result.stderr


def test_a_changed_threshold_fails_the_unit_tests(promtool, settings, tmp_path):
    # A lag threshold ten times higher would never page on the tested backlog: the test says so.
    broken = copy_rules(
        settings,
        tmp_path,
        "sum by (group) (sluice_processor_consumer_lag) > 10000",
        "sum by (group) (sluice_processor_consumer_lag) > 100000",
    )
    result = run(promtool, "test", "rules", str(broken / "tests" / "sluice.rules.test.yml"),
                 cwd=tmp_path)  # fmt: skip
    assert result.returncode != 0
    assert "SluiceConsumerLagHigh" in result.stdout + result.stderr
