variable "name" {
  description = "Prefix of the replication group, its groups and secret, e.g. sluice-production."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name))
    error_message = "name must be 3-32 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "vpc_id" {
  description = "VPC of the replication group's security group."
  type        = string

  validation {
    condition     = can(regex("^vpc-[0-9a-f]+$", var.vpc_id))
    error_message = "vpc_id must be a VPC ID (vpc-...)."
  }
}

variable "subnet_ids" {
  description = "Database subnets the nodes are placed in, one zone per replica."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2 && alltrue([for id in var.subnet_ids : can(regex("^subnet-[0-9a-f]+$", id))])
    error_message = "subnet_ids must hold at least two subnet IDs (subnet-...)."
  }
}

variable "allowed_security_group_ids" {
  description = "Security groups whose members may connect on 6379 (the EKS cluster's group)."
  type        = list(string)

  validation {
    condition     = alltrue([for id in var.allowed_security_group_ids : can(regex("^sg-[0-9a-f]+$", id))])
    error_message = "allowed_security_group_ids must hold security group IDs (sg-...)."
  }
}

variable "engine_version" {
  description = "Redis OSS version, 7.x (the version the native stack runs)."
  type        = string
  default     = "7.1"

  validation {
    condition     = can(regex("^7\\.[0-9]+$", var.engine_version))
    error_message = "engine_version must be a Redis 7 version such as 7.1."
  }
}

variable "parameter_group_name" {
  description = "Cache parameter group; the default one of the engine's family unless tuned."
  type        = string
  default     = "default.redis7"

  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9.-]*$", var.parameter_group_name))
    error_message = "parameter_group_name must be a cache parameter group name such as default.redis7."
  }
}

variable "node_type" {
  description = "Node type, e.g. cache.t4g.small or cache.r7g.large."
  type        = string

  validation {
    condition     = can(regex("^cache\\.[a-z0-9]+\\.[0-9]*[a-z]+$", var.node_type))
    error_message = "node_type must be an ElastiCache node type such as cache.r7g.large."
  }
}

variable "num_cache_clusters" {
  description = "Nodes: one primary plus replicas; from two on, a replica in another zone takes over automatically."
  type        = number

  validation {
    condition     = var.num_cache_clusters >= 1 && var.num_cache_clusters <= 6 && floor(var.num_cache_clusters) == var.num_cache_clusters
    error_message = "num_cache_clusters must be a whole number from 1 to 6."
  }
}

variable "snapshot_retention_days" {
  description = "Days of daily snapshots kept."
  type        = number

  validation {
    condition     = var.snapshot_retention_days >= 1 && var.snapshot_retention_days <= 35
    error_message = "snapshot_retention_days must be from 1 to 35."
  }
}

variable "kms_key_arn" {
  description = "ARN of the customer-managed KMS key for data at rest and snapshots."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "secrets_kms_key_arn" {
  description = "ARN of the KMS key that encrypts the AUTH token's secret."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/", var.secrets_kms_key_arn))
    error_message = "secrets_kms_key_arn must be a KMS key ARN."
  }
}

variable "logs_kms_key_arn" {
  description = "ARN of the KMS key that encrypts the slow and engine log groups."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/", var.logs_kms_key_arn))
    error_message = "logs_kms_key_arn must be a KMS key ARN."
  }
}

variable "log_retention_days" {
  description = "Days the slow and engine logs are kept."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of the values CloudWatch Logs accepts (e.g. 30, 90, 365, 731)."
  }
}
