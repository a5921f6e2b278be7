variable "environment" {
  description = "Environment name: dev, staging or production; it names every resource (sluice-<environment>-...)."
  type        = string

  validation {
    condition     = contains(["dev", "staging", "production"], var.environment)
    error_message = "environment must be dev, staging or production."
  }
}

variable "region" {
  description = "AWS region of the environment, e.g. eu-west-1."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as eu-west-1."
  }
}

variable "vpc_cidr" {
  description = "IPv4 range of the VPC (/16 to /20); give each environment its own so they can be peered."
  type        = string

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && can(regex("^[0-9.]+/(1[6-9]|20)$", var.vpc_cidr))
    error_message = "vpc_cidr must be an IPv4 CIDR with a prefix length from /16 to /20, e.g. 10.30.0.0/16."
  }
}

variable "availability_zones" {
  description = "The three availability zones of the region the subnets span."
  type        = list(string)

  validation {
    condition     = length(var.availability_zones) == 3 && length(distinct(var.availability_zones)) == 3
    error_message = "availability_zones must name three different zones."
  }
}

variable "single_nat_gateway" {
  description = "One NAT gateway for all zones (cheaper, not zone-redundant) instead of one per zone."
  type        = bool
}

variable "log_retention_days" {
  description = "Days every CloudWatch log group (flow, control plane, database, broker) keeps its logs."
  type        = number

  validation {
    condition     = contains([365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a CloudWatch Logs retention of a year or more (365, 400, 545, 731, ...)."
  }
}

variable "kms_deletion_window_days" {
  description = "Days a scheduled KMS key deletion can still be cancelled."
  type        = number

  validation {
    condition     = var.kms_deletion_window_days >= 7 && var.kms_deletion_window_days <= 30
    error_message = "kms_deletion_window_days must be from 7 to 30."
  }
}

variable "deletion_protection" {
  description = "Whether the databases refuse deletion until this is turned off."
  type        = bool
}

variable "kubernetes_version" {
  description = "Kubernetes minor version of the EKS cluster, e.g. 1.33."
  type        = string

  validation {
    condition     = can(regex("^1\\.(29|3[0-9])$", var.kubernetes_version))
    error_message = "kubernetes_version must be a minor version from 1.29 on, e.g. 1.33."
  }
}

variable "kubernetes_namespace" {
  description = "Namespace the Helm chart installs the platform into; the IRSA roles trust its service accounts."
  type        = string
  default     = "sluice"

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", var.kubernetes_namespace))
    error_message = "kubernetes_namespace must be a Kubernetes DNS label."
  }
}

variable "eks_endpoint_public_access" {
  description = "Whether the Kubernetes API is also reachable from eks_public_access_cidrs on the internet."
  type        = bool
  default     = false
}

variable "eks_public_access_cidrs" {
  description = "IPv4 ranges allowed to the public Kubernetes API endpoint (office or VPN egress)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for cidr in var.eks_public_access_cidrs : can(cidrhost(cidr, 0)) && !startswith(cidr, "0.0.0.0/")])
    error_message = "eks_public_access_cidrs must be IPv4 CIDRs and may not include 0.0.0.0/0."
  }
}

variable "eks_admin_role_arns" {
  description = "IAM roles given cluster-admin (e.g. the platform team's SSO role and the CI deploy role)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.eks_admin_role_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/", arn))])
    error_message = "eks_admin_role_arns must be IAM role ARNs."
  }
}

variable "node_instance_types" {
  description = "EC2 instance types of the EKS node group."
  type        = list(string)

  validation {
    condition     = length(var.node_instance_types) > 0 && alltrue([for type in var.node_instance_types : can(regex("^[a-z][a-z0-9-]*\\.[0-9]*[a-z]+$", type))])
    error_message = "node_instance_types must hold EC2 instance types such as m6i.large."
  }
}

variable "node_min_size" {
  description = "Fewest EKS nodes."
  type        = number

  validation {
    condition     = var.node_min_size >= 1
    error_message = "node_min_size must be at least 1."
  }
}

variable "node_desired_size" {
  description = "EKS nodes at creation (the cluster autoscaler owns the number afterwards)."
  type        = number

  validation {
    condition     = var.node_desired_size >= 1
    error_message = "node_desired_size must be at least 1."
  }
}

variable "node_max_size" {
  description = "Most EKS nodes."
  type        = number

  validation {
    condition     = var.node_max_size >= 1 && var.node_max_size <= 100
    error_message = "node_max_size must be from 1 to 100."
  }
}

variable "postgres_instance_class" {
  description = "RDS PostgreSQL instance class."
  type        = string

  validation {
    condition     = can(regex("^db\\.[a-z0-9]+\\.[0-9]*[a-z]+$", var.postgres_instance_class))
    error_message = "postgres_instance_class must be an RDS instance class such as db.r6g.large."
  }
}

variable "postgres_allocated_storage" {
  description = "Initial PostgreSQL storage in GiB."
  type        = number

  validation {
    condition     = var.postgres_allocated_storage >= 20 && var.postgres_allocated_storage <= 65536
    error_message = "postgres_allocated_storage must be from 20 to 65536 GiB."
  }
}

variable "postgres_max_allocated_storage" {
  description = "Ceiling in GiB for PostgreSQL storage autoscaling."
  type        = number

  validation {
    condition     = var.postgres_max_allocated_storage >= 20 && var.postgres_max_allocated_storage <= 65536
    error_message = "postgres_max_allocated_storage must be from 20 to 65536 GiB."
  }
}

variable "postgres_multi_az" {
  description = "Whether PostgreSQL runs a synchronous standby in another zone."
  type        = bool
}

variable "database_backup_retention_days" {
  description = "Days of automated backups of PostgreSQL and DocumentDB, and of Redis snapshots."
  type        = number

  validation {
    condition     = var.database_backup_retention_days >= 7 && var.database_backup_retention_days <= 35
    error_message = "database_backup_retention_days must be from 7 to 35."
  }
}

variable "redis_node_type" {
  description = "ElastiCache node type."
  type        = string

  validation {
    condition     = can(regex("^cache\\.[a-z0-9]+\\.[0-9]*[a-z]+$", var.redis_node_type))
    error_message = "redis_node_type must be an ElastiCache node type such as cache.r7g.large."
  }
}

variable "redis_num_cache_clusters" {
  description = "Redis nodes (primary plus replicas); two or more enable automatic failover across zones."
  type        = number

  validation {
    condition     = var.redis_num_cache_clusters >= 1 && var.redis_num_cache_clusters <= 6
    error_message = "redis_num_cache_clusters must be from 1 to 6."
  }
}

variable "kafka_broker_instance_type" {
  description = "MSK broker instance type."
  type        = string

  validation {
    condition     = can(regex("^kafka\\.[a-z0-9]+\\.[0-9]*[a-z]+$", var.kafka_broker_instance_type))
    error_message = "kafka_broker_instance_type must be an MSK broker type such as kafka.m7g.large."
  }
}

variable "kafka_broker_count" {
  description = "MSK brokers, a multiple of the three zones."
  type        = number

  validation {
    condition     = var.kafka_broker_count >= 3 && var.kafka_broker_count % 3 == 0
    error_message = "kafka_broker_count must be a multiple of 3 and at least 3."
  }
}

variable "kafka_broker_volume_size" {
  description = "EBS storage per MSK broker in GiB."
  type        = number

  validation {
    condition     = var.kafka_broker_volume_size >= 1 && var.kafka_broker_volume_size <= 16384
    error_message = "kafka_broker_volume_size must be from 1 to 16384 GiB."
  }
}

variable "documentdb_instance_class" {
  description = "DocumentDB instance class."
  type        = string

  validation {
    condition     = can(regex("^db\\.[a-z0-9]+\\.[0-9]*[a-z]+$", var.documentdb_instance_class))
    error_message = "documentdb_instance_class must be a DocumentDB instance class such as db.r6g.large."
  }
}

variable "documentdb_instance_count" {
  description = "DocumentDB instances (primary plus replicas)."
  type        = number

  validation {
    condition     = var.documentdb_instance_count >= 1 && var.documentdb_instance_count <= 16
    error_message = "documentdb_instance_count must be from 1 to 16."
  }
}

variable "documentdb_performance_insights" {
  description = "Whether Performance Insights runs on the DocumentDB instances."
  type        = bool
}

variable "backup_bucket_retention_days" {
  description = "Days a backup set stays in the backups bucket before S3 expires it (a ceiling over SLUICE_BACKUP_KEEP_DAYS)."
  type        = number

  validation {
    condition     = var.backup_bucket_retention_days >= 7
    error_message = "backup_bucket_retention_days must be at least 7."
  }
}

variable "export_bucket_retention_days" {
  description = "Days an export_daily file stays in the exports bucket before S3 expires it."
  type        = number

  validation {
    condition     = var.export_bucket_retention_days >= 1
    error_message = "export_bucket_retention_days must be at least 1."
  }
}

variable "keda_operator_role_arn" {
  description = "IAM role of KEDA's operator (from its own install), allowed to assume the app role to read the processors' consumer lag from MSK; empty: none."
  type        = string
  default     = ""

  validation {
    condition     = var.keda_operator_role_arn == "" || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/", var.keda_operator_role_arn))
    error_message = "keda_operator_role_arn must be empty or an IAM role ARN."
  }
}
