output "region" {
  description = "AWS region of the environment."
  value       = var.region
}

output "vpc_id" {
  description = "ID of the environment's VPC."
  value       = module.network.vpc_id
}

output "vpc_cidr" {
  description = "IPv4 range of the VPC, where every data service listens (the chart's networkPolicy.dataServices)."
  value       = var.vpc_cidr
}

output "nat_public_ips" {
  description = "Addresses the crawlers' requests leave from."
  value       = module.network.nat_public_ips
}

output "eks_cluster_name" {
  description = "EKS cluster name (aws eks update-kubeconfig --name <this> --region <region>)."
  value       = module.eks.cluster_name
}

output "eks_cluster_endpoint" {
  description = "URL of the Kubernetes API."
  value       = module.eks.cluster_endpoint
}

output "postgres_address" {
  description = "Host of PostgreSQL (TLS required)."
  value       = module.postgres.address
}

output "postgres_port" {
  description = "Port of PostgreSQL."
  value       = module.postgres.port
}

output "postgres_master_secret_arn" {
  description = "Secret of the PostgreSQL owner role, managed and rotated by RDS."
  value       = module.postgres.master_secret_arn
}

output "postgres_app_secret_arns" {
  description = "Secrets of the PostgreSQL application roles, by role."
  value       = module.postgres.app_secret_arns
}

output "redis_primary_endpoint" {
  description = "Host of the Redis primary (TLS, AUTH)."
  value       = module.redis.primary_endpoint_address
}

output "redis_auth_secret_arn" {
  description = "Secret with the Redis AUTH token and rediss:// URL."
  value       = module.redis.auth_secret_arn
}

output "kafka_bootstrap_brokers" {
  description = "MSK bootstrap brokers for SASL/IAM over TLS."
  value       = module.kafka.bootstrap_brokers_sasl_iam
}

output "documentdb_endpoint" {
  description = "Writer endpoint of DocumentDB (TLS required)."
  value       = module.documentdb.endpoint
}

output "documentdb_master_secret_arn" {
  description = "Secret of the DocumentDB master user, managed by DocumentDB."
  value       = module.documentdb.master_secret_arn
}

output "object_store_url" {
  description = "S3 endpoint of the region (SLUICE_OBJECT_STORE_URL); the pods sign with their IRSA role."
  value       = "https://s3.${var.region}.amazonaws.com"
}

output "backups_bucket" {
  description = "Bucket nightly_backup writes backup sets to (SLUICE_BACKUP_BUCKET)."
  value       = module.backups_bucket.bucket_name
}

output "exports_bucket" {
  description = "Bucket export_daily writes its CSV files to (SLUICE_EXPORT_BUCKET)."
  value       = module.exports_bucket.bucket_name
}

output "dag_bundles_bucket" {
  description = "Bucket the S3 DAG bundle of Airflow reads from (sluice bundle build uploads here; SLUICE_BUNDLE_BUCKET)."
  value       = module.dag_bundles_bucket.bucket_name
}

output "workload_role_arns" {
  description = "IRSA role of each workload (app, airflow, secrets), by workload."
  value       = module.workload_iam.role_arns
}

output "app_role_arn" {
  description = "IRSA role of the Helm chart's pods: serviceAccount.annotations eks.amazonaws.com/role-arn."
  value       = module.workload_iam.app_role_arn
}

output "airflow_role_arn" {
  description = "IRSA role of Airflow's pods: eks.amazonaws.com/role-arn of the Airflow chart's service accounts."
  value       = module.workload_iam.airflow_role_arn
}

output "secrets_role_arn" {
  description = "IRSA role that reads the connection secrets to fill the chart's existingSecret."
  value       = module.workload_iam.secrets_role_arn
}
