"""Prometheus' scrape configurations for Compose and Kubernetes: their jobs are exactly the ones
monitoring/README.md names (the alert rules and dashboards select on them), every Compose target
is a service of docker-compose.yaml on the port it serves metrics on, and docker-compose.yaml
with its monitoring services still follows the Compose specification; broken copies fail."""

from __future__ import annotations

import copy
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.support.monitoring import readme_jobs

COMPOSE_SCRAPE = "monitoring/prometheus/compose.yml"
KUBERNETES_SCRAPE = "monitoring/prometheus/kubernetes.yml"
COMPONENT_LABEL = "__meta_kubernetes_pod_label_app_kubernetes_io_component"


def targets(job: dict) -> list[tuple[str, int]]:
    """(host, port) of a job's static targets and DNS-discovered names."""
    found = []
    for static in job.get("static_configs", []):
        for target in static["targets"]:
            host, port = target.rsplit(":", 1)
            found.append((host, int(port)))
    for dns in job.get("dns_sd_configs", []):
        found.extend((name, int(dns["port"])) for name in dns["names"])
    return found


def target_problems(config: dict, compose: dict) -> list[str]:
    """Targets that are not a Compose service serving metrics on that port."""
    services = compose["services"]
    problems = []
    for job in config["scrape_configs"]:
        name = job["job_name"]
        found = targets(job)
        if not found:
            problems.append(f"{name}: no targets")
        for host, port in found:
            if host == "localhost" and name == "prometheus":
                continue  # Prometheus scraping itself
            if host not in services:
                problems.append(f"{name}: {host} is not a service of docker-compose.yaml")
                continue
            service = services[host]
            if not {"monitoring"} >= set(service.get("profiles", ["monitoring"])):
                problems.append(f"{name}: {host} does not run with the monitoring profile")
            environment = service.get("environment") or {}
            # Sluice's own processes serve on SLUICE_METRICS_PORT, the API on its own port.
            if name == "api":
                expected = int(re.search(r":(\d+)", environment["SLUICE_API_URL"]).group(1))
            else:
                expected = int(environment.get("SLUICE_METRICS_PORT", port))
            if port != expected:
                problems.append(f"{name}: {host} serves metrics on {expected}, not {port}")
    return problems


def kubernetes_jobs(config: dict) -> set[str]:
    """The job names a Kubernetes configuration can produce.

    A job that takes its name from the pod's component label yields the components its keep
    rule lets through; any other job keeps its job_name.
    """
    jobs = set()
    for job in config["scrape_configs"]:
        relabels = job.get("relabel_configs", [])
        from_component = any(
            rule.get("target_label") == "job" and rule.get("source_labels") == [COMPONENT_LABEL]
            for rule in relabels
        )
        if not from_component:
            jobs.add(job["job_name"])
            continue
        kept = [
            rule["regex"]
            for rule in relabels
            if rule.get("action") == "keep" and rule.get("source_labels") == [COMPONENT_LABEL]
        ]
        assert len(kept) == 1, f"{job['job_name']}: keep exactly the known components"
        assert re.fullmatch(r"[\w-]+(\|[\w-]+)*", kept[0]), "a plain list of names"
        jobs |= set(kept[0].split("|"))
    return jobs


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def broken(settings, tmp_path: Path, relative: str, old: str, new: str) -> dict:
    """A configuration with one text replaced (the replacement must apply)."""
    text = (settings.project_dir / relative).read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {relative}"
    target = tmp_path / Path(relative).name
    target.write_text(text.replace(old, new, 1), encoding="utf-8")
    return load(target)


@pytest.fixture(scope="module")
def jobs(settings) -> set[str]:
    names = readme_jobs(settings.project_dir)
    assert names >= {"api", "archiver", "normalizer", "workers", "exporter", "prometheus"}
    return names


@pytest.fixture(scope="module")
def compose(settings) -> dict:
    return load(settings.project_dir / "docker-compose.yaml")


@pytest.fixture(scope="module")
def compose_scrape(settings) -> dict:
    return load(settings.project_dir / COMPOSE_SCRAPE)


@pytest.fixture(scope="module")
def kubernetes_scrape(settings) -> dict:
    return load(settings.project_dir / KUBERNETES_SCRAPE)


def check_config(promtool: str, config: dict, folder: Path) -> subprocess.CompletedProcess:
    path = folder / "prometheus.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return subprocess.run(
        [promtool, "check", "config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


# --- Compose ----------------------------------------------------------------------------------


def test_compose_scrape_settings(compose_scrape):
    assert compose_scrape["global"]["scrape_interval"] == "15s"
    assert compose_scrape["global"]["evaluation_interval"] == "15s"
    assert compose_scrape["rule_files"] == ["/etc/prometheus/rules/*.rules.yml"]


def test_compose_jobs_are_the_documented_ones(compose_scrape, jobs):
    names = [job["job_name"] for job in compose_scrape["scrape_configs"]]
    assert len(set(names)) == len(names), names
    assert set(names) == jobs


def test_compose_targets_are_services_serving_metrics(compose_scrape, compose):
    assert target_problems(compose_scrape, compose) == []


def test_a_job_scraping_an_unknown_service_fails(settings, tmp_path, compose):
    config = broken(settings, tmp_path, COMPOSE_SCRAPE, "normalizer:9200", "normaliser:9200")
    assert target_problems(config, compose) == [
        "normalizer: normaliser is not a service of docker-compose.yaml"
    ]


def test_a_job_scraping_the_wrong_port_fails(settings, tmp_path, compose):
    config = broken(settings, tmp_path, COMPOSE_SCRAPE, "archiver:9200", "archiver:9201")
    assert target_problems(config, compose) == [
        "archiver: archiver serves metrics on 9200, not 9201"
    ]


def test_compose_config_passes_promtool(promtool, compose_scrape, tmp_path):
    result = check_config(promtool, compose_scrape, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_prometheus_mounts_its_config_and_the_rules(compose, compose_scrape):
    prometheus = compose["services"]["prometheus"]
    assert prometheus["profiles"] == ["monitoring"]
    config_file = next(
        arg.split("=", 1)[1] for arg in prometheus["command"] if arg.startswith("--config.file=")
    )
    volumes = {v.split(":")[1]: v.split(":")[0] for v in prometheus["volumes"]}
    assert volumes[config_file] == f"./{COMPOSE_SCRAPE}"
    rules_folder = str(Path(compose_scrape["rule_files"][0]).parent)
    assert volumes[rules_folder] == "./monitoring/rules"


def test_airflow_sends_statsd_to_the_exporter_that_maps_it(compose):
    exporter = compose["services"]["statsd-exporter"]
    flags = dict(arg.split("=", 1) for arg in exporter["command"])
    volumes = {v.split(":")[1]: v.split(":")[0] for v in exporter["volumes"]}
    assert volumes[flags["--statsd.mapping-config"]] == "./monitoring/statsd/airflow.yml"
    for name in ("airflow-scheduler", "airflow-api-server", "airflow-dag-processor"):
        environment = compose["services"][name]["environment"]
        assert environment["AIRFLOW__METRICS__STATSD_ON"] == "True"
        assert environment["AIRFLOW__METRICS__STATSD_HOST"] == "statsd-exporter"
        assert flags["--statsd.listen-udp"] == f":{environment['AIRFLOW__METRICS__STATSD_PORT']}"
        # The mapping's patterns all begin with the prefix.
        assert environment["AIRFLOW__METRICS__STATSD_PREFIX"] == "airflow"


def test_compose_with_monitoring_follows_the_compose_specification(tool):
    result = tool(
        "check-jsonschema", "--builtin-schema", "vendor.compose-spec", "docker-compose.yaml"
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- Kubernetes -------------------------------------------------------------------------------


def test_kubernetes_jobs_are_the_documented_ones(kubernetes_scrape, jobs):
    assert kubernetes_jobs(kubernetes_scrape) == jobs


def test_kubernetes_scrapes_annotated_pods_only(kubernetes_scrape):
    pods = [job for job in kubernetes_scrape["scrape_configs"] if "kubernetes_sd_configs" in job]
    assert pods
    for job in pods:
        assert [sd["role"] for sd in job["kubernetes_sd_configs"]] == ["pod"]
        assert {
            "source_labels": ["__meta_kubernetes_pod_annotation_prometheus_io_scrape"],
            "action": "keep",
            "regex": "true",
        } in job["relabel_configs"]


def test_a_kubernetes_config_missing_a_component_fails(settings, tmp_path, jobs):
    config = broken(settings, tmp_path, KUBERNETES_SCRAPE, "|exporter|", "|")
    assert jobs - kubernetes_jobs(config) == {"exporter"}


def test_kubernetes_config_passes_promtool(promtool, kubernetes_scrape, tmp_path):
    # Debian's promtool is built without Kubernetes discovery: a static target stands in for
    # it, so the rest (the relabelling regexes above all) is still checked.
    config = copy.deepcopy(kubernetes_scrape)
    for job in config["scrape_configs"]:
        if job.pop("kubernetes_sd_configs", None):
            job["static_configs"] = [{"targets": ["10.0.0.1:9200"]}]
    result = check_config(promtool, config, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_fails_a_broken_relabelling(promtool, kubernetes_scrape, tmp_path):
    config = copy.deepcopy(kubernetes_scrape)
    job = next(job for job in config["scrape_configs"] if "kubernetes_sd_configs" in job)
    job["static_configs"] = [{"targets": ["10.0.0.1:9200"]}]
    del job["kubernetes_sd_configs"]
    job["relabel_configs"][-1]["regex"] = "([^:]+"
    result = check_config(promtool, config, tmp_path)
    assert result.returncode != 0
