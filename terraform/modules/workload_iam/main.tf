# IAM roles of the platform's workloads, assumed through IRSA by their Kubernetes service
# accounts. Each role gets only what its workload does: the API reads PostgreSQL and Redis, the
# workers produce crawled items, the processors consume them and write the stores, Airflow
# reads the DAG bundles and writes the backups, the migrations job creates schemas and topics.

data "aws_region" "current" {}

locals {
  oidc_host = replace(var.oidc_issuer_url, "https://", "")

  # Topic and group ARNs share the cluster's name and UUID: arn:...:topic/<name>/<uuid>/<topic>.
  kafka_topics = "${replace(var.kafka_cluster_arn, ":cluster/", ":topic/")}/${var.kafka_prefix}*"
  kafka_groups = "${replace(var.kafka_cluster_arn, ":cluster/", ":group/")}/${var.kafka_prefix}*"
  raw_topics   = "${replace(var.kafka_cluster_arn, ":cluster/", ":topic/")}/${var.kafka_prefix}raw.*"

  secrets_via = "secretsmanager.${data.aws_region.current.region}.amazonaws.com"
  s3_via      = "s3.${data.aws_region.current.region}.amazonaws.com"

  # The connection secrets each workload reads. Airflow's quality checks, backups and
  # re-processing read the stores; the migrations job reads every secret, as it creates the
  # roles and the schema.
  secrets_read = {
    api        = [var.postgres_app_secret_arns["sluice_reader"], var.redis_secret_arn]
    workers    = [var.redis_secret_arn]
    processors = [var.postgres_app_secret_arns["sluice_writer"], var.documentdb_secret_arn, var.redis_secret_arn]
    airflow = [
      var.postgres_app_secret_arns["airflow"],
      var.postgres_master_secret_arn,
      var.documentdb_secret_arn,
      var.redis_secret_arn,
    ]
    migrations = concat([var.postgres_master_secret_arn, var.documentdb_secret_arn], values(var.postgres_app_secret_arns))
  }

  # Each workload's own statements, on top of reading its secrets (the API needs nothing more).
  own_statements = {
    api        = []
    workers    = [data.aws_iam_policy_document.workers.json]
    processors = [data.aws_iam_policy_document.processors.json]
    airflow    = [data.aws_iam_policy_document.airflow.json]
    migrations = [data.aws_iam_policy_document.migrations.json]
  }
}

data "aws_iam_policy_document" "secrets" {
  for_each = local.secrets_read

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
    [data.aws_iam_policy_document.secrets[each.key].json], local.own_statements[each.key]
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

data "aws_iam_policy_document" "workers" {
  statement {
    sid       = "ConnectToKafka"
    actions   = ["kafka-cluster:Connect", "kafka-cluster:DescribeCluster", "kafka-cluster:WriteDataIdempotently"]
    resources = [var.kafka_cluster_arn]
  }

  statement {
    sid       = "ProduceRawItems"
    actions   = ["kafka-cluster:DescribeTopic", "kafka-cluster:WriteData"]
    resources = [local.raw_topics]
  }
}

data "aws_iam_policy_document" "processors" {
  statement {
    sid       = "ConnectToKafka"
    actions   = ["kafka-cluster:Connect", "kafka-cluster:DescribeCluster", "kafka-cluster:WriteDataIdempotently"]
    resources = [var.kafka_cluster_arn]
  }

  # Consume the raw topics, and produce refused records to the dead-letter topic.
  statement {
    sid       = "ConsumeAndDeadLetter"
    actions   = ["kafka-cluster:DescribeTopic", "kafka-cluster:ReadData", "kafka-cluster:WriteData"]
    resources = [local.kafka_topics]
  }

  statement {
    sid       = "CommitOffsets"
    actions   = ["kafka-cluster:DescribeGroup", "kafka-cluster:AlterGroup"]
    resources = [local.kafka_groups]
  }
}

data "aws_iam_policy_document" "airflow" {
  statement {
    sid       = "ListBuckets"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = [var.dag_bundle_bucket_arn, var.backup_bucket_arn]
  }

  statement {
    sid       = "ReadDagBundles"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = ["${var.dag_bundle_bucket_arn}/*"]
  }

  # Delete: nightly_backup prunes the sets older than SLUICE_BACKUP_KEEP_DAYS.
  statement {
    sid       = "WriteBackups"
    actions   = ["s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
    resources = ["${var.backup_bucket_arn}/*"]
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

  # Consumer lag for the dashboards, and re-driving dead letters into the raw topics.
  statement {
    sid       = "ConnectToKafka"
    actions   = ["kafka-cluster:Connect", "kafka-cluster:DescribeCluster", "kafka-cluster:WriteDataIdempotently"]
    resources = [var.kafka_cluster_arn]
  }

  statement {
    sid       = "ReadTopicsAndRedrive"
    actions   = ["kafka-cluster:DescribeTopic", "kafka-cluster:ReadData", "kafka-cluster:WriteData"]
    resources = [local.kafka_topics]
  }

  statement {
    sid       = "ReadConsumerLag"
    actions   = ["kafka-cluster:DescribeGroup", "kafka-cluster:AlterGroup"]
    resources = [local.kafka_groups]
  }
}

data "aws_iam_policy_document" "migrations" {
  statement {
    sid       = "ConnectToKafka"
    actions   = ["kafka-cluster:Connect", "kafka-cluster:DescribeCluster"]
    resources = [var.kafka_cluster_arn]
  }

  # ensure_topics creates the platform's topics with their partition counts and retention.
  statement {
    sid = "CreateTopics"
    actions = [
      "kafka-cluster:CreateTopic",
      "kafka-cluster:DescribeTopic",
      "kafka-cluster:DescribeTopicDynamicConfiguration",
      "kafka-cluster:AlterTopic",
      "kafka-cluster:AlterTopicDynamicConfiguration",
    ]
    resources = [local.kafka_topics]
  }
}
