# One environment of the platform. The three environments share this file word for word; they
# differ in terraform.tfvars (sizes, redundancy, protection) and backend.tf (state bucket).

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      Project     = "sluice"
      Environment = var.environment
      ManagedBy   = "terraform"
      Stack       = "terraform/envs/${var.environment}"
    }
  }
}

data "aws_caller_identity" "current" {}

locals {
  name = "sluice-${var.environment}"
  # Bucket names are global: the account and region keep them from colliding with anyone's.
  bucket_suffix = "${data.aws_caller_identity.current.account_id}-${var.region}"
}

module "kms" {
  source = "../modules/kms"

  name                 = local.name
  deletion_window_days = var.kms_deletion_window_days
}

module "network" {
  source = "../modules/network"

  name               = local.name
  cidr_block         = var.vpc_cidr
  availability_zones = var.availability_zones
  single_nat_gateway = var.single_nat_gateway
  logs_kms_key_arn   = module.kms.key_arns["logs"]
  log_retention_days = var.log_retention_days
}

module "eks" {
  source = "../modules/eks"

  name                   = local.name
  kubernetes_version     = var.kubernetes_version
  subnet_ids             = module.network.private_subnet_ids
  endpoint_public_access = var.eks_endpoint_public_access
  public_access_cidrs    = var.eks_public_access_cidrs
  admin_role_arns        = var.eks_admin_role_arns
  secrets_kms_key_arn    = module.kms.key_arns["eks"]
  logs_kms_key_arn       = module.kms.key_arns["logs"]
  log_retention_days     = var.log_retention_days
  node_instance_types    = var.node_instance_types
  node_min_size          = var.node_min_size
  node_desired_size      = var.node_desired_size
  node_max_size          = var.node_max_size
}

module "postgres" {
  source = "../modules/postgres"

  name                       = local.name
  vpc_id                     = module.network.vpc_id
  subnet_ids                 = module.network.database_subnet_ids
  allowed_security_group_ids = [module.eks.cluster_security_group_id]
  instance_class             = var.postgres_instance_class
  allocated_storage          = var.postgres_allocated_storage
  max_allocated_storage      = var.postgres_max_allocated_storage
  multi_az                   = var.postgres_multi_az
  backup_retention_days      = var.database_backup_retention_days
  deletion_protection        = var.deletion_protection
  kms_key_arn                = module.kms.key_arns["postgres"]
  secrets_kms_key_arn        = module.kms.key_arns["secrets"]
  logs_kms_key_arn           = module.kms.key_arns["logs"]
  log_retention_days         = var.log_retention_days
}

module "redis" {
  source = "../modules/redis"

  name                       = local.name
  vpc_id                     = module.network.vpc_id
  subnet_ids                 = module.network.database_subnet_ids
  allowed_security_group_ids = [module.eks.cluster_security_group_id]
  node_type                  = var.redis_node_type
  num_cache_clusters         = var.redis_num_cache_clusters
  snapshot_retention_days    = var.database_backup_retention_days
  kms_key_arn                = module.kms.key_arns["redis"]
  secrets_kms_key_arn        = module.kms.key_arns["secrets"]
  logs_kms_key_arn           = module.kms.key_arns["logs"]
  log_retention_days         = var.log_retention_days
}

module "kafka" {
  source = "../modules/kafka"

  name                       = local.name
  vpc_id                     = module.network.vpc_id
  subnet_ids                 = module.network.database_subnet_ids
  allowed_security_group_ids = [module.eks.cluster_security_group_id]
  broker_instance_type       = var.kafka_broker_instance_type
  broker_count               = var.kafka_broker_count
  broker_volume_size         = var.kafka_broker_volume_size
  kms_key_arn                = module.kms.key_arns["kafka"]
  logs_kms_key_arn           = module.kms.key_arns["logs"]
  log_retention_days         = var.log_retention_days
}

module "documentdb" {
  source = "../modules/documentdb"

  name                         = local.name
  vpc_id                       = module.network.vpc_id
  subnet_ids                   = module.network.database_subnet_ids
  allowed_security_group_ids   = [module.eks.cluster_security_group_id]
  instance_class               = var.documentdb_instance_class
  instance_count               = var.documentdb_instance_count
  performance_insights_enabled = var.documentdb_performance_insights
  backup_retention_days        = var.database_backup_retention_days
  deletion_protection          = var.deletion_protection
  kms_key_arn                  = module.kms.key_arns["documentdb"]
  logs_kms_key_arn             = module.kms.key_arns["logs"]
  log_retention_days           = var.log_retention_days
}

module "backups_bucket" {
  source = "../modules/s3_bucket"

  bucket_name = "${local.name}-backups-${local.bucket_suffix}"
  purpose     = "backups"
  kms_key_arn = module.kms.key_arns["s3"]
  # Only worth a transition when objects live well past STANDARD_IA's 30-day minimum charge.
  infrequent_access_after_days = var.backup_bucket_retention_days > 60 ? 30 : null
  expiration_days              = var.backup_bucket_retention_days
  noncurrent_version_days      = 7
}

module "exports_bucket" {
  source = "../modules/s3_bucket"

  bucket_name             = "${local.name}-exports-${local.bucket_suffix}"
  purpose                 = "exports"
  kms_key_arn             = module.kms.key_arns["s3"]
  expiration_days         = var.export_bucket_retention_days
  noncurrent_version_days = 7
}

module "dag_bundles_bucket" {
  source = "../modules/s3_bucket"

  bucket_name             = "${local.name}-dag-bundles-${local.bucket_suffix}"
  purpose                 = "dag-bundles"
  kms_key_arn             = module.kms.key_arns["s3"]
  noncurrent_version_days = 90
}

module "workload_iam" {
  source = "../modules/workload_iam"

  name                       = local.name
  namespace                  = var.kubernetes_namespace
  oidc_provider_arn          = module.eks.oidc_provider_arn
  oidc_issuer_url            = module.eks.oidc_issuer_url
  postgres_master_secret_arn = module.postgres.master_secret_arn
  postgres_app_secret_arns   = module.postgres.app_secret_arns
  documentdb_secret_arn      = module.documentdb.master_secret_arn
  redis_secret_arn           = module.redis.auth_secret_arn
  secrets_kms_key_arn        = module.kms.key_arns["secrets"]
  kafka_cluster_arn          = module.kafka.cluster_arn
  keda_operator_role_arn     = var.keda_operator_role_arn
  dag_bundle_bucket_arn      = module.dag_bundles_bucket.bucket_arn
  backup_bucket_arn          = module.backups_bucket.bucket_arn
  export_bucket_arn          = module.exports_bucket.bucket_arn
  s3_kms_key_arn             = module.kms.key_arns["s3"]
}
