# DocumentDB as the MongoDB-compatible store of the raw documents. DocumentDB keeps the master
# password in Secrets Manager itself (manage_master_user_password), so no password is generated
# or stored by Terraform; TLS is enforced by the cluster parameter group.

locals {
  cluster_identifier = "${var.name}-docdb"
  family             = "docdb${join(".", slice(split(".", var.engine_version), 0, 2))}"
  log_types          = ["audit", "profiler"]
}

resource "aws_security_group" "this" {
  name        = local.cluster_identifier
  description = "DocumentDB of ${var.name}: reachable from the EKS workloads only"
  vpc_id      = var.vpc_id

  tags = {
    Name = local.cluster_identifier
  }
}

resource "aws_vpc_security_group_ingress_rule" "clients" {
  count = length(var.allowed_security_group_ids)

  security_group_id            = aws_security_group.this.id
  referenced_security_group_id = var.allowed_security_group_ids[count.index]
  ip_protocol                  = "tcp"
  from_port                    = 27017
  to_port                      = 27017
  description                  = "MongoDB wire protocol (TLS) from the EKS workloads"
}

resource "aws_docdb_subnet_group" "this" {
  name       = local.cluster_identifier
  subnet_ids = var.subnet_ids
}

resource "aws_docdb_cluster_parameter_group" "this" {
  name_prefix = "${local.cluster_identifier}-"
  family      = local.family
  description = "DocumentDB of ${var.name}: TLS only, audit and slow-operation logs"

  # tls is a static parameter: DocumentDB applies it at the next reboot, and refuses "immediate".
  parameter {
    name         = "tls"
    value        = "enabled"
    apply_method = "pending-reboot"
  }

  parameter {
    name  = "audit_logs"
    value = "enabled"
  }

  parameter {
    name  = "profiler"
    value = "enabled"
  }

  parameter {
    name  = "profiler_threshold_ms"
    value = tostring(var.slow_operation_ms)
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_cloudwatch_log_group" "this" {
  for_each = toset(local.log_types)

  name              = "/aws/docdb/${local.cluster_identifier}/${each.value}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.logs_kms_key_arn
}

resource "aws_docdb_cluster" "this" {
  # checkov:skip=CKV_AWS_360:The check compares the retention to 7 without resolving variables and crashes on var.backup_retention_days; that variable's validation requires 7 to 35 days instead.
  cluster_identifier = local.cluster_identifier
  engine             = "docdb"
  engine_version     = var.engine_version
  port               = 27017

  master_username             = var.master_username
  manage_master_user_password = true

  storage_encrypted = true
  kms_key_id        = var.kms_key_arn

  db_subnet_group_name            = aws_docdb_subnet_group.this.name
  vpc_security_group_ids          = [aws_security_group.this.id]
  db_cluster_parameter_group_name = aws_docdb_cluster_parameter_group.this.name
  enabled_cloudwatch_logs_exports = local.log_types

  backup_retention_period      = var.backup_retention_days
  preferred_backup_window      = "00:00-01:00"
  preferred_maintenance_window = "sun:03:00-sun:04:00"
  deletion_protection          = var.deletion_protection
  skip_final_snapshot          = false
  final_snapshot_identifier    = "${local.cluster_identifier}-final"
  apply_immediately            = false

  depends_on = [aws_cloudwatch_log_group.this]
}

resource "aws_docdb_cluster_instance" "this" {
  count = var.instance_count

  identifier                   = "${local.cluster_identifier}-${count.index + 1}"
  cluster_identifier           = aws_docdb_cluster.this.id
  instance_class               = var.instance_class
  ca_cert_identifier           = "rds-ca-rsa2048-g1"
  auto_minor_version_upgrade   = true
  preferred_maintenance_window = "sun:03:00-sun:04:00"

  enable_performance_insights     = var.performance_insights_enabled
  performance_insights_kms_key_id = var.performance_insights_enabled ? var.kms_key_arn : null
}
