variable "name" {
  description = "Prefix of the role names, e.g. sluice-production (roles are sluice-production-api, ...)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name))
    error_message = "name must be 3-32 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "namespace" {
  description = "Kubernetes namespace the Helm chart installs the platform (and Airflow) into."
  type        = string
  default     = "sluice"

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", var.namespace))
    error_message = "namespace must be a Kubernetes DNS label."
  }
}

variable "service_accounts" {
  description = "Kubernetes service accounts allowed to assume each role, by role: app (the Helm chart's serviceAccount, every Sluice pod), airflow (the Airflow chart's components), secrets (what fills the chart's existingSecret)."
  type = object({
    app     = list(string)
    airflow = list(string)
    secrets = list(string)
  })
  default = {
    app     = ["sluice"]
    airflow = ["sluice-airflow-scheduler", "sluice-airflow-worker", "sluice-airflow-triggerer", "sluice-airflow-dag-processor", "sluice-airflow-api-server"]
    secrets = ["sluice-external-secrets"]
  }

  validation {
    condition = alltrue(flatten([
      for accounts in values(var.service_accounts) : [
        for account in accounts : can(regex("^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$", account))
      ]
    ]))
    error_message = "service_accounts must hold Kubernetes service account names (DNS subdomains)."
  }
}

variable "oidc_provider_arn" {
  description = "ARN of the EKS cluster's IAM OIDC provider."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider/", var.oidc_provider_arn))
    error_message = "oidc_provider_arn must be an IAM OIDC provider ARN."
  }
}

variable "oidc_issuer_url" {
  description = "OIDC issuer URL of the EKS cluster (https://oidc.eks.<region>.amazonaws.com/id/...)."
  type        = string

  validation {
    condition     = startswith(var.oidc_issuer_url, "https://")
    error_message = "oidc_issuer_url must be an https:// URL."
  }
}

variable "postgres_master_secret_arn" {
  description = "ARN of the RDS-managed secret of the PostgreSQL owner role (migrations, backups)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:secretsmanager:", var.postgres_master_secret_arn))
    error_message = "postgres_master_secret_arn must be a Secrets Manager secret ARN."
  }
}

variable "postgres_app_secret_arns" {
  description = "ARNs of the PostgreSQL application roles' secrets, by role: sluice_writer, sluice_reader, airflow."
  type        = map(string)

  validation {
    condition     = alltrue([for role in ["sluice_writer", "sluice_reader", "airflow"] : contains(keys(var.postgres_app_secret_arns), role)])
    error_message = "postgres_app_secret_arns must hold the sluice_writer, sluice_reader and airflow secrets."
  }

  validation {
    condition     = alltrue([for arn in values(var.postgres_app_secret_arns) : can(regex("^arn:aws[a-z-]*:secretsmanager:", arn))])
    error_message = "postgres_app_secret_arns must hold Secrets Manager secret ARNs."
  }
}

variable "documentdb_secret_arn" {
  description = "ARN of the DocumentDB-managed master secret."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:secretsmanager:", var.documentdb_secret_arn))
    error_message = "documentdb_secret_arn must be a Secrets Manager secret ARN."
  }
}

variable "redis_secret_arn" {
  description = "ARN of the secret with the Redis AUTH token."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:secretsmanager:", var.redis_secret_arn))
    error_message = "redis_secret_arn must be a Secrets Manager secret ARN."
  }
}

variable "secrets_kms_key_arn" {
  description = "ARN of the KMS key the secrets are encrypted with."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/", var.secrets_kms_key_arn))
    error_message = "secrets_kms_key_arn must be a KMS key ARN."
  }
}

variable "kafka_cluster_arn" {
  description = "ARN of the MSK cluster the workloads authenticate to with IAM."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kafka:[a-z0-9-]+:[0-9]{12}:cluster/", var.kafka_cluster_arn))
    error_message = "kafka_cluster_arn must be an MSK cluster ARN."
  }
}

variable "kafka_prefix" {
  description = "Prefix of the platform's topics and consumer groups (sluice.raw.products, sluice.normalizer, ...)."
  type        = string
  default     = "sluice."

  validation {
    condition     = can(regex("^[a-zA-Z0-9._-]+$", var.kafka_prefix))
    error_message = "kafka_prefix must be letters, digits, dots, underscores or hyphens."
  }
}

variable "dag_bundle_bucket_arn" {
  description = "ARN of the bucket Airflow reads DAG bundles from."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9.-]+$", var.dag_bundle_bucket_arn))
    error_message = "dag_bundle_bucket_arn must be an S3 bucket ARN."
  }
}

variable "export_bucket_arn" {
  description = "ARN of the bucket export_daily writes its CSV files to."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9.-]+$", var.export_bucket_arn))
    error_message = "export_bucket_arn must be an S3 bucket ARN."
  }
}

variable "backup_bucket_arn" {
  description = "ARN of the bucket nightly_backup writes to."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9.-]+$", var.backup_bucket_arn))
    error_message = "backup_bucket_arn must be an S3 bucket ARN."
  }
}

variable "s3_kms_key_arn" {
  description = "ARN of the KMS key the buckets encrypt with."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/", var.s3_kms_key_arn))
    error_message = "s3_kms_key_arn must be a KMS key ARN."
  }
}

variable "keda_operator_role_arn" {
  description = "IAM role of KEDA's operator, allowed to assume the app role to read the processors' consumer lag from MSK; empty: KEDA does not read MSK."
  type        = string
  default     = ""

  validation {
    condition     = var.keda_operator_role_arn == "" || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/", var.keda_operator_role_arn))
    error_message = "keda_operator_role_arn must be empty or an IAM role ARN."
  }
}
