# IAM roles of the platform's workloads, assumed through IRSA by their Kubernetes service
# accounts. The Helm chart runs every Sluice pod (API, processors, spider workers, state
# exporter, migrations) under one ServiceAccount, which the production canary shares, so the
# chart's pods have one role, `app`: Kafka through MSK IAM and the platform's buckets. Airflow
# has its own (`airflow`). Neither reads Secrets Manager: the pods get their credentials from
# the Kubernetes Secret the chart names (existingSecret); `secrets` is the role whatever fills
# that Secret assumes (an External Secrets SecretStore's service account).

data "aws_region" "current" {}

locals {
  oidc_host = replace(var.oidc_issuer_url, "https://", "")

  # Topic and group ARNs share the cluster's name and UUID: arn:...:topic/<name>/<uuid>/<topic>.
  kafka_topics = "${replace(var.kafka_cluster_arn, ":cluster/", ":topic/")}/${var.kafka_prefix}*"
  kafka_groups = "${replace(var.kafka_cluster_arn, ":cluster/", ":group/")}/${var.kafka_prefix}*"

  secrets_via = "secretsmanager.${data.aws_region.current.region}.amazonaws.com"
  s3_via      = "s3.${data.aws_region.current.region}.amazonaws.com"

  # Read and write: backup sets (nightly_backup prunes the old ones) and exports. Read only:
  # DAG bundles, which CI publishes; a pod that could write them could change the code
  # Airflow runs.
  read_write_buckets = [var.backup_bucket_arn, var.export_bucket_arn]
  read_only_buckets  = [var.dag_bundle_bucket_arn]

  # The connection secrets each role reads. Airflow's quality checks, backups and
  # re-processing read the stores; `secrets` reads every connection secret, to fill the
  # chart's existingSecret and Airflow's Secrets.
  secrets_read = {
    app = []
    airflow = [
      var.postgres_app_secret_arns["airflow"],
      var.postgres_master_secret_arn,
      var.documentdb_secret_arn,
      var.redis_secret_arn,
    ]
    secrets = concat(
      [var.postgres_master_secret_arn, var.documentdb_secret_arn, var.redis_secret_arn],
      values(var.postgres_app_secret_arns),
    )
  }

  # Each role's own statements, on top of reading its secrets.
  own_statements = {
    app     = [data.aws_iam_policy_document.kafka.json, data.aws_iam_policy_document.buckets.json]
    airflow = [data.aws_iam_policy_document.kafka.json, data.aws_iam_policy_document.buckets.json]
    secrets = []
  }

  # KEDA reads the processors' consumer lag from MSK as the `app` role (TriggerAuthentication
  # with identityOwner: workload), so KEDA's operator role may assume it.
  keda_assumes = var.keda_operator_role_arn == "" ? {} : { app = var.keda_operator_role_arn }
}

data "aws_iam_policy_document" "secrets" {
  for_each = { for role, arns in local.secrets_read : role => arns if length(arns) > 0 }

  statement {
    sid       = "ReadConnectionSecrets"
    actions   = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
    resources = each.value
  }

  statement {
    sid       = "DecryptSecrets"
    actions   = ["kms:Decrypt"]
    resources = [var.secrets_kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = [local.secrets_via]
    }
  }
}

data "aws_iam_policy_document" "role" {
  for_each = local.secrets_read

  source_policy_documents = concat(
    [for role, document in data.aws_iam_policy_document.secrets : document.json if role == each.key],
    local.own_statements[each.key],
  )
}

data "aws_iam_policy_document" "assume" {
  for_each = var.service_accounts

  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [var.oidc_provider_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.oidc_host}:aud"
      values   = ["sts.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.oidc_host}:sub"
      values   = [for account in each.value : "system:serviceaccount:${var.namespace}:${account}"]
    }
  }

  dynamic "statement" {
    for_each = contains(keys(local.keda_assumes), each.key) ? [local.keda_assumes[each.key]] : []

    content {
      sid     = "KedaReadsConsumerLag"
      actions = ["sts:AssumeRole"]

      principals {
        type        = "AWS"
        identifiers = [statement.value]
      }
    }
  }
}

resource "aws_iam_role" "this" {
  for_each = var.service_accounts

  name               = "${var.name}-${each.key}"
  description        = "Sluice ${each.key} pods (IRSA, namespace ${var.namespace})"
  assume_role_policy = data.aws_iam_policy_document.assume[each.key].json
}

resource "aws_iam_role_policy" "this" {
  for_each = var.service_accounts

  name   = "sluice-${each.key}"
  role   = aws_iam_role.this[each.key].id
  policy = data.aws_iam_policy_document.role[each.key].json
}

# MSK IAM: connect, produce (idempotently), consume, commit offsets and create the platform's
# topics, on the sluice.* topics and groups only.
data "aws_iam_policy_document" "kafka" {
  statement {
    sid       = "ConnectToKafka"
    actions   = ["kafka-cluster:Connect", "kafka-cluster:DescribeCluster", "kafka-cluster:WriteDataIdempotently"]
    resources = [var.kafka_cluster_arn]
  }

  # Workers produce the raw topics, processors consume them and produce dead letters, Airflow
  # re-drives them; migrations create the topics with their partition counts and retention.
  statement {
    sid = "ReadWriteAndCreateTopics"
    actions = [
      "kafka-cluster:DescribeTopic",
      "kafka-cluster:ReadData",
      "kafka-cluster:WriteData",
      "kafka-cluster:CreateTopic",
      "kafka-cluster:DescribeTopicDynamicConfiguration",
      "kafka-cluster:AlterTopic",
      "kafka-cluster:AlterTopicDynamicConfiguration",
    ]
    resources = [local.kafka_topics]
  }

  statement {
    sid       = "ConsumerGroups"
    actions   = ["kafka-cluster:DescribeGroup", "kafka-cluster:AlterGroup"]
    resources = [local.kafka_groups]
  }
}

data "aws_iam_policy_document" "buckets" {
  statement {
    sid       = "ListBuckets"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = concat(local.read_write_buckets, local.read_only_buckets)
  }

  statement {
    sid       = "ReadObjects"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = [for bucket in concat(local.read_write_buckets, local.read_only_buckets) : "${bucket}/*"]
  }

  statement {
    sid       = "WriteBackupsAndExports"
    actions   = ["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]
    resources = [for bucket in local.read_write_buckets : "${bucket}/*"]
  }

  statement {
    sid       = "UseBucketKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.s3_kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = [local.s3_via]
    }
  }
}
