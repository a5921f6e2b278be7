"""What the Helm chart takes from Terraform, checked from both sides offline: the table of
helm/README.md (each Terraform output to the chart value it feeds) against terraform/platform's
outputs and the chart's values, and the names the two must share (service accounts, roles,
buckets, region, the VPC range, ports) against the staging and production values.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from tests.support.helm import CHART, NAMESPACE, RELEASE, chart_copy, documents, of_kind
from tests.support.helm import template_args as helm_args
from tests.unit.deploy.test_terraform import PARSE, Hcl

MANAGED = ("staging", "production")
MONITORING = Path(__file__).resolve().parents[3] / "monitoring"
# Outputs for people and other tools, not for the chart: the cluster's address and name
# (kubectl), the VPC's id and the crawlers' egress addresses (allow-lists elsewhere), and the
# role map (the same roles as app_role_arn, airflow_role_arn and secrets_role_arn).
NOT_FOR_THE_CHART = {
    "eks_cluster_name", "eks_cluster_endpoint", "vpc_id", "nat_public_ips", "workload_role_arns",
}  # fmt: skip
# The data services of the chart's NetworkPolicy and the module whose security group admits them.
SERVICE_MODULES = {
    "postgres": "postgres",
    "redis": "redis",
    "kafka": "kafka",
    "mongo": "documentdb",
}


@pytest.fixture(scope="module")
def hcl(tool, settings) -> tuple[Hcl, dict[str, dict]]:
    files = sorted(
        str(path.relative_to(settings.project_dir))
        for path in (settings.project_dir / "terraform").rglob("*.tf*")
    )
    result = tool("python", "-c", PARSE, *files)
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    return Hcl(loaded["canary"]), loaded["files"]


@pytest.fixture(scope="module")
def values(settings) -> dict[str, dict]:
    folder = settings.project_dir / CHART
    return {
        env: yaml.safe_load((folder / f"values-{env}.yaml").read_text(encoding="utf-8"))
        for env in MANAGED
    } | {"defaults": yaml.safe_load((folder / "values.yaml").read_text(encoding="utf-8"))}


@pytest.fixture(scope="module")
def production(tool, settings, tmp_path_factory) -> list[dict]:
    chart = chart_copy(settings.project_dir / CHART, tmp_path_factory.mktemp("chart"), MONITORING)
    result = tool("helm", *helm_args(chart, "-f", str(chart / "values-production.yaml")))
    assert result.returncode == 0, result.stderr
    return documents(result.stdout)


@pytest.fixture(scope="module")
def table(settings) -> list[list[str]]:
    """The rows of helm/README.md's Terraform table: output, chart value, variable."""
    text = (settings.project_dir / "helm" / "README.md").read_text(encoding="utf-8")
    section = text.split("## From Terraform to the chart", 1)[1]
    rows = [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in section.splitlines()
        if line.startswith("| `")
    ]
    assert rows, "helm/README.md has no Terraform table"
    return rows


def names(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def outputs(hcl) -> dict[str, dict]:
    parser, files = hcl
    return parser.labelled(files["terraform/platform/outputs.tf"], "output")


def tfvars(hcl, env: str) -> dict[str, object]:
    parser, files = hcl
    document = files[f"terraform/envs/{env}/terraform.tfvars"]
    return {name: parser.attr(document, name) for name in document}


def role_of(values: dict) -> tuple[str, str]:
    """(account, role name) of an eks.amazonaws.com/role-arn annotation."""
    arn = values["serviceAccount"]["annotations"]["eks.amazonaws.com/role-arn"]
    account, role = re.fullmatch(r"arn:aws:iam::(\d{12}):role/(.+)", arn).groups()
    return account, role


def has_value(values: dict, path: str) -> bool:
    """Whether the dotted ``path`` exists in ``values`` ({a,b} alternatives, [*] any item)."""
    alternatives = re.fullmatch(r"(.*)\{([^}]+)\}(.*)", path)
    if alternatives:
        head, options, tail = alternatives.groups()
        return all(has_value(values, f"{head}{option}{tail}") for option in options.split(","))
    node: object = values
    for part in path.split("."):
        key, each = part.removesuffix("[*]"), part.endswith("[*]")
        if not isinstance(node, dict) or key not in node:
            return False
        node = node[key]
        if each:
            if not isinstance(node, list) or not node:
                return False
            node = node[0]
    return True


# --- the table of helm/README.md --------------------------------------------------------------


def test_every_output_the_table_names_exists(table, hcl):
    named = {name for row in table for name in names(row[0])}
    assert named - set(outputs(hcl)) == set()


def test_every_output_is_in_the_table_or_not_for_the_chart(table, hcl):
    text = json.dumps(table)
    missing = {name for name in outputs(hcl) if f"`{name}`" not in text} - NOT_FOR_THE_CHART
    assert missing == set()


def test_every_chart_value_the_table_names_is_set_for_production(table, values):
    production = values["production"]
    paths = [
        path.split(" ")[0]
        for row in table
        for path in names(row[1])
        if path != "existingSecret" and not path.startswith("eks.amazonaws.com")
    ]
    assert paths and [p for p in paths if not has_value(production, p)] == []


def test_every_variable_the_table_names_reaches_the_production_pods(table, production):
    config = {
        key
        for m in of_kind(production, "ConfigMap")
        for key in m.get("data", {})
        if key.startswith("SLUICE_")
    }
    referenced = {
        entry["valueFrom"]["secretKeyRef"]["key"]
        for m in production
        if m["kind"] in ("Deployment", "Job")
        for container in m["spec"]["template"]["spec"]["containers"]
        for entry in container["env"]
        if "valueFrom" in entry
    }
    variables = {name for row in table for name in names(row[2]) if name.startswith("SLUICE_")}
    assert variables and variables - config - referenced == set()


# --- names the chart and Terraform share ------------------------------------------------------


def test_the_charts_service_account_is_the_one_the_app_role_trusts(hcl, production):
    parser, files = hcl
    variables = parser.labelled(files["terraform/modules/workload_iam/variables.tf"], "variable")
    trusted = parser.attr(variables["service_accounts"], "default")["app"]
    namespace = parser.attr(variables["namespace"], "default")
    (account,) = of_kind(production, "ServiceAccount")
    assert (account["metadata"]["namespace"], [account["metadata"]["name"]]) == (
        namespace,
        trusted,
    )


def test_the_annotated_airflow_service_accounts_are_ones_the_airflow_role_trusts(hcl, values):
    parser, files = hcl
    variables = parser.labelled(files["terraform/modules/workload_iam/variables.tf"], "variable")
    trusted = set(parser.attr(variables["service_accounts"], "default")["airflow"])
    # The Airflow chart names them <release>-airflow-<component> (its airflow.fullname).
    suffixes = {"scheduler": "scheduler", "workers": "worker", "triggerer": "triggerer",
                "dagProcessor": "dag-processor"}  # fmt: skip
    annotated = {
        f"{RELEASE}-airflow-{suffixes[component]}"
        for env in MANAGED
        for component, spec in values[env]["airflow"].items()
        if isinstance(spec, dict) and "serviceAccount" in spec
    }
    assert annotated and annotated - trusted == set()


def test_the_values_name_the_roles_terraform_creates(hcl, values):
    parser, files = hcl
    main = files["terraform/modules/workload_iam/main.tf"]
    (role,) = [e["aws_iam_role"]["this"] for e in main["resource"] if "aws_iam_role" in e]
    (platform,) = files["terraform/platform/main.tf"]["locals"]
    # Roles are named <platform name>-<role>, the platform name sluice-<environment>.
    assert (parser.attr(role, "name"), parser.attr(platform, "name")) == (
        "${var.name}-${each.key}",
        "sluice-${var.environment}",
    )
    found = {
        env: {
            role_of(values[env])[1],
            re.sub(
                r".*:role/",
                "",
                values[env]["airflow"]["scheduler"]["serviceAccount"]["annotations"][
                    "eks.amazonaws.com/role-arn"
                ],
            ),
        }
        for env in MANAGED
    }
    assert found == {env: {f"sluice-{env}-app", f"sluice-{env}-airflow"} for env in MANAGED}


def test_the_values_name_the_buckets_terraform_creates(hcl, values):
    parser, files = hcl
    calls = parser.labelled(files["terraform/platform/main.tf"], "module")
    names_of = {
        parser.attr(body, "purpose"): parser.attr(body, "bucket_name")
        for body in calls.values()
        if parser.attr(body, "source") == "../modules/s3_bucket"
    }
    keys = {"backups": "backupBucket", "exports": "exportBucket", "dag-bundles": "bundleBucket"}
    for env in MANAGED:
        account, _ = role_of(values[env])
        region = tfvars(hcl, env)["region"]
        wanted = {
            keys[purpose]: pattern.replace("${local.name}", f"sluice-{env}").replace(
                "${local.bucket_suffix}", f"{account}-{region}"
            )
            for purpose, pattern in names_of.items()
        }
        got = {key: values[env]["config"]["objectStore"][key] for key in keys.values()}
        assert got == wanted, env


def test_the_values_use_their_environments_region_s3_endpoint_and_vpc(hcl, values):
    found, wanted = {}, {}
    for env in MANAGED:
        config, terraform = values[env]["config"], tfvars(hcl, env)
        found[env] = (
            config["awsRegion"],
            config["objectStore"]["url"],
            {c for s in values[env]["networkPolicy"]["dataServices"] for c in s["cidrs"]},
        )
        wanted[env] = (
            terraform["region"],
            f"https://s3.{terraform['region']}.amazonaws.com",
            {terraform["vpc_cidr"]},
        )
    assert found == wanted


def test_the_network_policy_ports_are_the_ones_the_security_groups_open(hcl, values):
    parser, files = hcl
    opened = {}
    for service, module in SERVICE_MODULES.items():
        main = files[f"terraform/modules/{module}/main.tf"]
        (rule,) = [
            e["aws_vpc_security_group_ingress_rule"]["clients"]
            for e in main["resource"]
            if "clients" in e.get("aws_vpc_security_group_ingress_rule", {})
        ]
        opened[service] = [parser.attr(rule, "from_port")]
    for env in MANAGED:
        ports = {s["name"]: s["ports"] for s in values[env]["networkPolicy"]["dataServices"]}
        assert ports == opened, env


def test_the_namespace_is_the_one_terraform_trusts(hcl):
    parser, files = hcl
    variables = parser.labelled(files["terraform/platform/variables.tf"], "variable")
    assert parser.attr(variables["kubernetes_namespace"], "default") == NAMESPACE
