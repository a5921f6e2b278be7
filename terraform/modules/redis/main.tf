# ElastiCache Redis for the crawl queues, the duplicate filter, the leases and the API cache.
# TLS in transit and an AUTH token: the token is generated here and kept in Secrets Manager,
# never written in the configuration.

locals {
  replication_group_id = "${var.name}-redis"
  highly_available     = var.num_cache_clusters > 1
  log_types            = ["slow-log", "engine-log"]
}

resource "aws_security_group" "this" {
  name        = local.replication_group_id
  description = "Redis of ${var.name}: reachable from the EKS workloads only"
  vpc_id      = var.vpc_id

  tags = {
    Name = local.replication_group_id
  }
}

resource "aws_vpc_security_group_ingress_rule" "clients" {
  count = length(var.allowed_security_group_ids)

  security_group_id            = aws_security_group.this.id
  referenced_security_group_id = var.allowed_security_group_ids[count.index]
  ip_protocol                  = "tcp"
  from_port                    = 6379
  to_port                      = 6379
  description                  = "Redis (TLS) from the EKS workloads"
}

resource "aws_elasticache_subnet_group" "this" {
  name       = local.replication_group_id
  subnet_ids = var.subnet_ids
}

resource "aws_cloudwatch_log_group" "this" {
  for_each = toset(local.log_types)

  name              = "/aws/elasticache/${local.replication_group_id}/${each.value}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.logs_kms_key_arn
}

# ElastiCache accepts 16-128 printable characters without @, " or /; alphanumerics also keep the
# token usable inside a rediss:// URL as is.
resource "random_password" "auth_token" {
  length  = 64
  special = false
}

resource "aws_secretsmanager_secret" "auth" {
  # checkov:skip=CKV2_AWS_57:ElastiCache has no managed rotation for AUTH tokens; rotate with terraform apply -replace on random_password.auth_token, which the ROTATE strategy applies without dropping clients (terraform/README.md).
  name                    = "${var.name}/redis/auth"
  description             = "AUTH token and address of the Redis of ${var.name}"
  kms_key_id              = var.secrets_kms_key_arn
  recovery_window_in_days = 7
}

resource "aws_secretsmanager_secret_version" "auth" {
  secret_id = aws_secretsmanager_secret.auth.id
  secret_string = jsonencode({
    auth_token = random_password.auth_token.result
    host       = aws_elasticache_replication_group.this.primary_endpoint_address
    port       = aws_elasticache_replication_group.this.port
    url        = "rediss://:${random_password.auth_token.result}@${aws_elasticache_replication_group.this.primary_endpoint_address}:${aws_elasticache_replication_group.this.port}/0"
  })
}

resource "aws_elasticache_replication_group" "this" {
  replication_group_id = local.replication_group_id
  description          = "Redis of ${var.name}: crawl queues, leases, duplicate filter, API cache"
  engine               = "redis"
  engine_version       = var.engine_version
  node_type            = var.node_type
  num_cache_clusters   = var.num_cache_clusters
  port                 = 6379
  parameter_group_name = var.parameter_group_name

  subnet_group_name  = aws_elasticache_subnet_group.this.name
  security_group_ids = [aws_security_group.this.id]

  automatic_failover_enabled = local.highly_available
  multi_az_enabled           = local.highly_available

  at_rest_encryption_enabled = true
  kms_key_id                 = var.kms_key_arn
  transit_encryption_enabled = true
  transit_encryption_mode    = "required"
  auth_token                 = random_password.auth_token.result
  auth_token_update_strategy = "ROTATE"

  auto_minor_version_upgrade = true
  apply_immediately          = false
  snapshot_retention_limit   = var.snapshot_retention_days
  snapshot_window            = "00:00-01:00"
  maintenance_window         = "sun:03:00-sun:04:00"

  dynamic "log_delivery_configuration" {
    for_each = local.log_types

    content {
      destination      = aws_cloudwatch_log_group.this[log_delivery_configuration.value].name
      destination_type = "cloudwatch-logs"
      log_format       = "json"
      log_type         = log_delivery_configuration.value
    }
  }
}
