variable "name" {
  description = "Prefix of the cluster, its instances and groups, e.g. sluice-production."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name))
    error_message = "name must be 3-32 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "vpc_id" {
  description = "VPC of the cluster's security group."
  type        = string

  validation {
    condition     = can(regex("^vpc-[0-9a-f]+$", var.vpc_id))
    error_message = "vpc_id must be a VPC ID (vpc-...)."
  }
}

variable "subnet_ids" {
  description = "Database subnets, in at least two zones; instances are spread over them."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2 && alltrue([for id in var.subnet_ids : can(regex("^subnet-[0-9a-f]+$", id))])
    error_message = "subnet_ids must hold at least two subnet IDs (subnet-...)."
  }
}

variable "allowed_security_group_ids" {
  description = "Security groups whose members may connect on 27017 (the EKS cluster's group)."
  type        = list(string)

  validation {
    condition     = alltrue([for id in var.allowed_security_group_ids : can(regex("^sg-[0-9a-f]+$", id))])
    error_message = "allowed_security_group_ids must hold security group IDs (sg-...)."
  }
}

variable "engine_version" {
  description = "DocumentDB engine version (MongoDB API compatibility); the parameter group family follows it."
  type        = string
  default     = "5.0.0"

  validation {
    condition     = contains(["4.0.0", "5.0.0"], var.engine_version)
    error_message = "engine_version must be 4.0.0 or 5.0.0."
  }
}

variable "master_username" {
  description = "Master user; its password lives in the DocumentDB-managed secret."
  type        = string
  default     = "sluice"

  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9]{0,62}$", var.master_username)) && lower(var.master_username) != "admin"
    error_message = "master_username must be letters and digits, starting with a letter, and not admin (reserved)."
  }
}

variable "instance_class" {
  description = "Instance class, e.g. db.t4g.medium or db.r6g.large."
  type        = string

  validation {
    condition     = can(regex("^db\\.[a-z0-9]+\\.[0-9]*[a-z]+$", var.instance_class))
    error_message = "instance_class must be a DocumentDB instance class such as db.r6g.large."
  }
}

variable "instance_count" {
  description = "Instances: one primary plus replicas, which take over when the primary fails."
  type        = number

  validation {
    condition     = var.instance_count >= 1 && var.instance_count <= 16 && floor(var.instance_count) == var.instance_count
    error_message = "instance_count must be a whole number from 1 to 16."
  }
}

variable "backup_retention_days" {
  description = "Days of automated backups and point-in-time recovery."
  type        = number

  validation {
    condition     = var.backup_retention_days >= 7 && var.backup_retention_days <= 35
    error_message = "backup_retention_days must be from 7 to 35."
  }
}

variable "deletion_protection" {
  description = "Whether the cluster refuses to be deleted until this is turned off (production)."
  type        = bool
}

variable "performance_insights_enabled" {
  description = "Whether Performance Insights runs on the instances (not offered on every small class)."
  type        = bool
  default     = true
}

variable "slow_operation_ms" {
  description = "Operations slower than this many milliseconds are written to the profiler log."
  type        = number
  default     = 500

  validation {
    condition     = var.slow_operation_ms >= 50 && var.slow_operation_ms <= 2147483646
    error_message = "slow_operation_ms must be at least 50."
  }
}

variable "kms_key_arn" {
  description = "ARN of the customer-managed KMS key for storage, snapshots and Performance Insights."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "logs_kms_key_arn" {
  description = "ARN of the KMS key that encrypts the audit and profiler log groups."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/", var.logs_kms_key_arn))
    error_message = "logs_kms_key_arn must be a KMS key ARN."
  }
}

variable "log_retention_days" {
  description = "Days the audit and profiler logs are kept."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of the values CloudWatch Logs accepts (e.g. 30, 90, 365, 731)."
  }
}
