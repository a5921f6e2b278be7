"""The Terraform in terraform/ (one root configuration, platform/, applied per environment),
checked offline: every file formatted as `terraform fmt` leaves it (hclfmt, the same hclwrite
formatter) and parsed by checkov's python-hcl2; modules and environments complete, described,
typed, validated and pinned; state in encrypted, locked S3; no literal secrets; checkov
passing. Each checker is also shown to fail on a broken copy.

There is no terraform binary here, so `terraform validate` and `plan` are not run: the tests on
the parsed files stand in for the parts of them that need no provider.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

ENVIRONMENTS = ("dev", "staging", "production")
MODULE_FILES = ("main.tf", "variables.tf", "outputs.tf", "versions.tf")
# One root configuration for every environment; an environment is its state and its sizes.
PLATFORM_FILES = (*MODULE_FILES, "backend.tf")
ENVIRONMENT_FILES = ("backend.hcl", "terraform.tfvars")

# python-hcl2 lives in the tools venv, not the application's, so it parses there and hands
# back JSON. The canary shows how this python-hcl2 renders values: checkov's fork (which
# shares the `hcl2` package name) wraps every attribute in a list; newer releases keep quotes.
PARSE = """
import json, sys
import hcl2
canary = hcl2.loads('variable "x" {\\n  a = "y"\\n}\\n')
files = {}
for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as handle:
        files[path] = hcl2.load(handle)
print(json.dumps({"canary": canary, "files": files}, default=str))
"""

# Variables whose names say their values have a shape: these must carry a validation block.
CONSTRAINED = re.compile(
    r"^environment$|^region$|cidr|availability_zones|instance_class$|node_type$|instance_types?$"
    r"|_count$|_clusters$|_size$|_storage$|_version$|_days$|_arns?$|_ids?$"
)
# An attribute named like a credential, set to a string with no reference in it.
LITERAL_SECRET = re.compile(
    r'^\s*"?(?P<name>\w*?(?:password|passwd|secret|token|secret_string|api_key|private_key))"?'
    r'\s*=\s*"(?P<value>[^"]*)"',
    re.IGNORECASE | re.MULTILINE,
)
CHECKOV_SKIP = re.compile(r"checkov:skip=(?P<check>[A-Z0-9_]+)(?::(?P<reason>.*))?")


class Hcl:
    """Attribute and block access that does not depend on how python-hcl2 renders values."""

    def __init__(self, canary: dict) -> None:
        label, body = next(iter(canary["variable"][0].items()))
        self.wrapped = isinstance(body["a"], list)
        sample = body["a"][0] if self.wrapped else body["a"]
        self.quoted = sample.startswith('"')
        self.label_quoted = label.startswith('"')

    def text(self, raw: object) -> object:
        if self.quoted and isinstance(raw, str) and len(raw) > 1 and raw[0] == raw[-1] == '"':
            return raw[1:-1]
        return raw

    def attr(self, body: dict, name: str, default: object = None) -> object:
        if name not in body:
            return default
        raw = body[name]
        if self.wrapped and isinstance(raw, list) and len(raw) == 1:
            raw = raw[0]
        return self.text(raw)

    def blocks(self, body: dict, kind: str) -> list[dict]:
        """Unlabelled blocks, such as validation or backend."""
        return list(body.get(kind, []))

    def labelled(self, document: dict, kind: str) -> dict[str, dict]:
        """Blocks with one label (variable, output, module, provider) by label."""
        found: dict[str, dict] = {}
        for entry in document.get(kind, []):
            for label, body in entry.items():
                found[label.strip('"') if self.label_quoted else label] = body
        return found


@pytest.fixture(scope="module")
def terraform_dir(settings) -> Path:
    return settings.project_dir / "terraform"


@pytest.fixture(scope="module")
def tf_files(settings, terraform_dir) -> list[str]:
    files = sorted(
        str(path.relative_to(settings.project_dir))
        for pattern in ("*.tf", "*.tfvars", "*.hcl")
        for path in terraform_dir.rglob(pattern)
    )
    assert files, "no Terraform files under terraform/"
    return files


@pytest.fixture(scope="module")
def parsed(tool, tf_files) -> tuple[Hcl, dict[str, dict]]:
    result = tool("python", "-c", PARSE, *tf_files)
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    return Hcl(loaded["canary"]), loaded["files"]


def _documents(parsed, suffix: str) -> dict[str, dict]:
    _, files = parsed
    return {path: document for path, document in files.items() if path.endswith(suffix)}


def _module_dirs(terraform_dir: Path) -> list[Path]:
    return sorted(path for path in (terraform_dir / "modules").iterdir() if path.is_dir())


@pytest.fixture(scope="session")
def checkov_run(tool):
    # Once for the whole directory: the platform pulls every module in, so this covers the
    # modules as the environments use them. --skip-download keeps checkov offline (it would
    # otherwise ask Prisma Cloud for guideline links).
    return tool(
        "checkov", "-d", "terraform", "--framework", "terraform", "--quiet", "--compact",
        "--skip-download",
    )  # fmt: skip


def test_every_file_passes_the_terraform_fmt_check(tool, tf_files):
    result = tool("hclfmt", "-check", "-require-no-change", *tf_files)
    assert result.returncode == 0, result.stderr


def test_the_fmt_check_fails_a_misformatted_copy(tool, broken_copy):
    broken = broken_copy(
        "terraform/modules/postgres/main.tf",
        '  engine         = "postgres"',
        '  engine = "postgres"',
    )
    result = tool("hclfmt", "-check", "-require-no-change", str(broken))
    assert result.returncode != 0 and "changed" in result.stderr


def test_every_file_parses_with_python_hcl2(parsed, tf_files):
    _, files = parsed
    assert sorted(files) == tf_files


def test_a_broken_block_fails_hclfmt_and_the_hcl2_parse(tool, broken_copy):
    # The security group's closing brace is gone: the block swallows the rest of the file.
    broken = broken_copy(
        "terraform/modules/postgres/main.tf",
        "  tags = {\n    Name = local.identifier\n  }\n}\n",
        "  tags = {\n    Name = local.identifier\n  }\n",
    )
    formatted = tool("hclfmt", "-check", "-require-no-change", str(broken))
    assert formatted.returncode != 0 and "Unclosed configuration block" in formatted.stderr
    assert tool("python", "-c", PARSE, str(broken)).returncode != 0


def test_every_module_has_its_four_files(terraform_dir):
    modules = _module_dirs(terraform_dir)
    assert modules, "no modules under terraform/modules"
    for module in modules:
        missing = [name for name in MODULE_FILES if not (module / name).is_file()]
        assert not missing, f"{module.name} lacks {missing}"


def test_the_platform_and_every_environment_have_their_files(terraform_dir):
    missing = [name for name in PLATFORM_FILES if not (terraform_dir / "platform" / name).is_file()]
    assert not missing, f"platform lacks {missing}"
    for environment in ENVIRONMENTS:
        folder = terraform_dir / "envs" / environment
        missing = [name for name in ENVIRONMENT_FILES if not (folder / name).is_file()]
        assert not missing, f"{environment} lacks {missing}"


def test_versions_pin_terraform_and_every_provider_used(parsed):
    hcl, files = parsed
    for path, document in _documents(parsed, "versions.tf").items():
        block = document["terraform"][0]
        required = str(hcl.attr(block, "required_version", ""))
        minimum = re.fullmatch(r">=\s*(\d+)\.(\d+)(\.\d+)?", required)
        assert minimum and (int(minimum[1]), int(minimum[2])) >= (1, 6), f"{path}: {required!r}"
        providers = hcl.attr(block, "required_providers", {})
        for name, spec in providers.items():
            spec = spec[0] if isinstance(spec, list) else spec
            assert str(spec["version"]).startswith("~>"), f"{path}: {name} is not pinned with ~>"
        # A resource or data source of a provider the folder does not require would make
        # `terraform init` fetch an unpinned one.
        main = files[path.replace("versions.tf", "main.tf")]
        used = {
            kind.split("_", 1)[0]
            for block in ("resource", "data")
            for entry in main.get(block, [])
            for kind in entry
        }
        assert used <= set(providers), f"{path}: {sorted(used - set(providers))} not required"


def test_every_variable_has_a_description_and_a_type(parsed):
    hcl, _ = parsed
    for path, document in _documents(parsed, ".tf").items():
        for name, body in hcl.labelled(document, "variable").items():
            assert hcl.attr(body, "description"), f"{path}: variable {name} has no description"
            assert hcl.attr(body, "type"), f"{path}: variable {name} has no type"


def test_variables_with_a_constrained_shape_are_validated(parsed):
    hcl, _ = parsed
    seen = set()
    for path, document in _documents(parsed, ".tf").items():
        for name, body in hcl.labelled(document, "variable").items():
            if CONSTRAINED.search(name):
                seen.add(name)
                assert hcl.blocks(body, "validation"), f"{path}: variable {name} is not validated"
    # The rule must have bitten: the environment names and the VPC range at least.
    assert {"environment", "vpc_cidr", "cidr_block"} <= seen


def test_every_output_has_a_description(parsed):
    hcl, _ = parsed
    outputs = 0
    for path, document in _documents(parsed, ".tf").items():
        for name, body in hcl.labelled(document, "output").items():
            outputs += 1
            assert hcl.attr(body, "description"), f"{path}: output {name} has no description"
    assert outputs


def test_every_environment_keeps_its_state_in_encrypted_locked_s3(parsed):
    hcl, files = parsed
    backends = [
        backend
        for block in files["terraform/platform/backend.tf"].get("terraform", [])
        for backend in block["backend"]
    ]
    assert len(backends) == 1 and "s3" in backends[0], "the platform has no s3 backend"
    s3 = backends[0]["s3"]
    assert hcl.attr(s3, "encrypt") is True, "state is not encrypted"
    assert hcl.attr(s3, "use_lockfile") is True or hcl.attr(s3, "dynamodb_table"), "not locked"
    buckets = set()
    for environment in ENVIRONMENTS:
        config = files[f"terraform/envs/{environment}/backend.hcl"]
        bucket, key = hcl.attr(config, "bucket"), hcl.attr(config, "key")
        assert environment in bucket and environment in key, environment
        assert hcl.attr(config, "region"), f"{environment}: no region"
        buckets.add(bucket)
    assert len(buckets) == len(ENVIRONMENTS), "environments share a state bucket"


def test_the_platform_calls_every_module(parsed, terraform_dir):
    hcl, files = parsed
    sources = [
        hcl.attr(body, "source")
        for body in hcl.labelled(files["terraform/platform/main.tf"], "module").values()
    ]
    folder = terraform_dir / "platform"
    used = {(folder / source).resolve() for source in sources}
    assert used == {module.resolve() for module in _module_dirs(terraform_dir)}, used


def test_the_aws_provider_tags_everything(parsed):
    hcl, files = parsed
    providers = hcl.labelled(files["terraform/platform/main.tf"], "provider")
    default_tags = hcl.blocks(providers["aws"], "default_tags")
    assert default_tags, "the aws provider has no default_tags"
    tags = hcl.attr(default_tags[0], "tags")
    assert {"Project", "Environment"} <= set(tags), tags


def _tfvars(parsed, environment: str) -> dict[str, object]:
    hcl, files = parsed
    document = files[f"terraform/envs/{environment}/terraform.tfvars"]
    return {name: hcl.attr(document, name) for name in document}


def test_tfvars_set_every_required_variable_and_no_unknown_one(parsed):
    hcl, files = parsed
    for environment in ENVIRONMENTS:
        declared = hcl.labelled(files["terraform/platform/variables.tf"], "variable")
        values = _tfvars(parsed, environment)
        required = {name for name, body in declared.items() if "default" not in body}
        assert required <= set(values), f"{environment} misses {sorted(required - set(values))}"
        assert set(values) <= set(declared), f"{environment}: {sorted(set(values) - set(declared))}"
        assert values["environment"] == environment


def test_sizes_differ_and_production_is_redundant_and_protected(parsed):
    # checkov sees the modules with these variables unresolved, so the choices it would check
    # (Multi-AZ, deletion protection, failover) are checked here, where they are made.
    dev, production = _tfvars(parsed, "dev"), _tfvars(parsed, "production")
    sized = ("node_instance_types", "postgres_instance_class", "redis_node_type")
    assert all(dev[name] != production[name] for name in sized)
    assert production["postgres_multi_az"] is True
    assert production["deletion_protection"] is True
    assert production["single_nat_gateway"] is False
    assert production["redis_num_cache_clusters"] >= 2
    assert production["documentdb_instance_count"] >= 2
    assert production["database_backup_retention_days"] >= dev["database_backup_retention_days"]


def _literal_secrets(text: str) -> list[str]:
    return [
        match["name"]
        for match in LITERAL_SECRET.finditer(text)
        if match["value"] and "${" not in match["value"]
    ]


def test_no_file_sets_a_secret_to_a_literal(settings, tf_files):
    for path in tf_files:
        text = (settings.project_dir / path).read_text(encoding="utf-8")
        assert not _literal_secrets(text), f"{path}: {_literal_secrets(text)}"


def test_the_secret_scan_catches_a_literal_token(broken_copy):
    broken = broken_copy(
        "terraform/modules/redis/main.tf",
        "auth_token                 = random_password.auth_token.result",
        'auth_token                 = "correct-horse-battery-staple"',
    )
    assert _literal_secrets(broken.read_text(encoding="utf-8")) == ["auth_token"]


def test_checkov_passes_on_the_whole_directory(checkov_run):
    output = checkov_run.stdout + checkov_run.stderr
    assert checkov_run.returncode == 0, output
    assert re.search(r"Passed checks: [1-9]\d*, Failed checks: 0", output), output


def test_every_checkov_skip_says_why(settings, tf_files):
    skipped = set()
    for path in tf_files:
        text = (settings.project_dir / path).read_text(encoding="utf-8")
        for match in CHECKOV_SKIP.finditer(text):
            reason = (match["reason"] or "").strip()
            assert len(reason) >= 40, f"{path}: {match['check']} is skipped without a reason"
            skipped.add(match["check"])
    assert len(skipped) <= 6, f"too many checks skipped: {sorted(skipped)}"


def test_checkov_fails_a_module_copy_that_turns_encryption_off(
    tool, broken_copy, settings, tmp_path
):
    module = settings.project_dir / "terraform/modules/postgres"
    broken_copy(
        "terraform/modules/postgres/main.tf",
        "storage_encrypted     = true",
        "storage_encrypted     = false",
    )
    for name in MODULE_FILES[1:]:
        shutil.copy(module / name, tmp_path / name)
    result = tool(
        "checkov", "-d", str(tmp_path), "--framework", "terraform", "--quiet", "--compact",
        "--skip-download",
    )  # fmt: skip
    failed = re.search(
        r"CKV_AWS_16\b.*\n\s*FAILED for resource: aws_db_instance\.this", result.stdout
    )
    assert result.returncode != 0 and failed, result.stdout


# --- buckets and roles of the workloads ------------------------------------------------------


def _module_calls(parsed) -> dict[str, dict]:
    hcl, files = parsed
    return hcl.labelled(files["terraform/platform/main.tf"], "module")


def _policy_statements(parsed, document: str) -> dict[str, dict]:
    """The statements of one aws_iam_policy_document of workload_iam, by sid."""
    hcl, files = parsed
    main = files["terraform/modules/workload_iam/main.tf"]
    (body,) = [
        entry["aws_iam_policy_document"][document]
        for entry in main["data"]
        if document in entry.get("aws_iam_policy_document", {})
    ]
    return {hcl.attr(s, "sid"): s for s in hcl.blocks(body, "statement")}


def _workload_locals(parsed) -> dict[str, object]:
    hcl, files = parsed
    (block,) = files["terraform/modules/workload_iam/main.tf"]["locals"]
    return {name: hcl.attr(block, name) for name in block if not name.startswith("__")}


def test_backups_exports_and_dag_bundles_each_have_a_bucket(parsed):
    hcl, _ = parsed
    purposes = {
        hcl.attr(body, "purpose")
        for body in _module_calls(parsed).values()
        if hcl.attr(body, "source") == "../modules/s3_bucket"
    }
    assert purposes == {"backups", "exports", "dag-bundles"}


def test_the_workload_roles_get_every_bucket_from_its_module(parsed):
    hcl, _ = parsed
    workload = _module_calls(parsed)["workload_iam"]
    given = {
        name: hcl.attr(workload, name)
        for name in ("backup_bucket_arn", "export_bucket_arn", "dag_bundle_bucket_arn")
    }
    assert given == {
        "backup_bucket_arn": "${module.backups_bucket.bucket_arn}",
        "export_bucket_arn": "${module.exports_bucket.bucket_arn}",
        "dag_bundle_bucket_arn": "${module.dag_bundles_bucket.bucket_arn}",
    }


def test_workloads_write_backups_and_exports_and_only_read_dag_bundles(parsed):
    hcl, _ = parsed
    found = _workload_locals(parsed)
    buckets = _policy_statements(parsed, "buckets")
    writes = str(hcl.attr(buckets["WriteBackupsAndExports"], "resources"))
    written = re.findall(r"local\.(\w+_buckets)", writes)
    assert (found["read_write_buckets"], found["read_only_buckets"], written) == (
        ["${var.backup_bucket_arn}", "${var.export_bucket_arn}"],
        ["${var.dag_bundle_bucket_arn}"],
        ["read_write_buckets"],
    )


def test_the_kafka_policy_allows_connecting_topics_and_groups_over_msk_iam(parsed):
    hcl, _ = parsed
    granted = {
        sid: set(hcl.attr(statement, "actions"))
        for sid, statement in _policy_statements(parsed, "kafka").items()
    }
    wanted = {
        "ConnectToKafka": {"kafka-cluster:Connect", "kafka-cluster:DescribeCluster"},
        "ReadWriteAndCreateTopics": {
            "kafka-cluster:DescribeTopic", "kafka-cluster:ReadData", "kafka-cluster:WriteData",
        },
        "ConsumerGroups": {"kafka-cluster:DescribeGroup", "kafka-cluster:AlterGroup"},
    }  # fmt: skip
    assert all(wanted[sid] <= granted.get(sid, set()) for sid in wanted), granted


def test_the_chart_and_airflow_roles_have_kafka_and_the_buckets(parsed):
    statements = _workload_locals(parsed)["own_statements"]
    both = [f"${{data.aws_iam_policy_document.{name}.json}}" for name in ("kafka", "buckets")]
    assert (statements["app"], statements["airflow"]) == (both, both)


def test_the_chart_pods_role_reads_no_secrets_manager_secret(parsed):
    # The chart hands each pod only its keys of existingSecret; a role able to read every
    # secret would undo that for the spider workers, which talk to the whole internet.
    assert _workload_locals(parsed)["secrets_read"]["app"] == []


def test_the_platform_outputs_the_buckets_and_roles_the_chart_needs(parsed):
    hcl, files = parsed
    outputs = hcl.labelled(files["terraform/platform/outputs.tf"], "output")
    wanted = {
        "backups_bucket": "${module.backups_bucket.bucket_name}",
        "exports_bucket": "${module.exports_bucket.bucket_name}",
        "dag_bundles_bucket": "${module.dag_bundles_bucket.bucket_name}",
        "app_role_arn": "${module.workload_iam.app_role_arn}",
        "airflow_role_arn": "${module.workload_iam.airflow_role_arn}",
    }
    assert {name: hcl.attr(outputs.get(name, {}), "value") for name in wanted} == wanted
