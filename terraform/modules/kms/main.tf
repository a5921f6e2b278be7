# One customer-managed key per kind of data, so a key's grants (and a leak of one) stay within
# one service, and each key can be disabled or audited on its own.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  keys = {
    eks        = "Kubernetes secrets of the EKS cluster"
    logs       = "CloudWatch log groups (VPC flow logs, EKS control plane, database and broker logs)"
    postgres   = "RDS PostgreSQL storage, snapshots and Performance Insights"
    documentdb = "DocumentDB storage and snapshots"
    redis      = "ElastiCache Redis data at rest"
    kafka      = "MSK broker storage"
    s3         = "S3 buckets (backups and DAG bundles)"
    secrets    = "Secrets Manager secrets (database and cache credentials)"
  }

  account_root = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"
  region       = data.aws_region.current.region

  # Delegating to IAM: who may use a key is decided by IAM policies (the workload roles, the
  # deploying principal), not by listing principals in every key policy.
  account_statement = {
    Sid       = "AccountAdministersTheKeyThroughIam"
    Effect    = "Allow"
    Principal = { AWS = local.account_root }
    Action    = "kms:*"
    Resource  = "*"
  }

  # CloudWatch Logs encrypts with the caller's key only if the key policy names the service,
  # and only for log groups of this account and region.
  logs_statement = {
    Sid       = "CloudWatchLogsEncryptsThisAccountsLogGroups"
    Effect    = "Allow"
    Principal = { Service = "logs.${local.region}.amazonaws.com" }
    Action    = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
    Resource  = "*"
    Condition = {
      ArnLike = {
        "kms:EncryptionContext:aws:logs:arn" = "arn:${data.aws_partition.current.partition}:logs:${local.region}:${data.aws_caller_identity.current.account_id}:log-group:*"
      }
    }
  }

  key_policies = {
    for purpose in keys(local.keys) : purpose => jsonencode({
      Version   = "2012-10-17"
      Statement = concat([local.account_statement], purpose == "logs" ? [local.logs_statement] : [])
    })
  }
}

resource "aws_kms_key" "this" {
  for_each = local.keys

  description             = "${var.name}: ${each.value}"
  enable_key_rotation     = true
  rotation_period_in_days = var.rotation_period_days
  deletion_window_in_days = var.deletion_window_days

  policy = local.key_policies[each.key]

  tags = {
    Name    = "${var.name}-${each.key}"
    Purpose = each.key
  }
}

resource "aws_kms_alias" "this" {
  for_each = local.keys

  name          = "alias/${var.name}/${each.key}"
  target_key_id = aws_kms_key.this[each.key].key_id
}
