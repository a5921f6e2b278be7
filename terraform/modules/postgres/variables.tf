variable "name" {
  description = "Prefix of the instance, its groups and secrets, e.g. sluice-production."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name))
    error_message = "name must be 3-32 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "vpc_id" {
  description = "VPC of the instance's security group."
  type        = string

  validation {
    condition     = can(regex("^vpc-[0-9a-f]+$", var.vpc_id))
    error_message = "vpc_id must be a VPC ID (vpc-...)."
  }
}

variable "subnet_ids" {
  description = "Database subnets, in at least two zones (Multi-AZ puts the standby in another one)."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2 && alltrue([for id in var.subnet_ids : can(regex("^subnet-[0-9a-f]+$", id))])
    error_message = "subnet_ids must hold at least two subnet IDs (subnet-...)."
  }
}

variable "allowed_security_group_ids" {
  description = "Security groups whose members may connect on 5432 (the EKS cluster's group)."
  type        = list(string)

  validation {
    condition     = alltrue([for id in var.allowed_security_group_ids : can(regex("^sg-[0-9a-f]+$", id))])
    error_message = "allowed_security_group_ids must hold security group IDs (sg-...)."
  }
}

variable "engine_version" {
  description = "PostgreSQL version: the major 15 alone (RDS picks the default minor and upgrades it) or a 15.x."
  type        = string
  default     = "15"

  validation {
    condition     = can(regex("^15(\\.[0-9]+)?$", var.engine_version))
    error_message = "engine_version must be PostgreSQL 15: \"15\" or \"15.<minor>\"; the schema and pg_dump are tested on 15."
  }
}

variable "instance_class" {
  description = "RDS instance class, e.g. db.t4g.medium or db.r6g.large."
  type        = string

  validation {
    condition     = can(regex("^db\\.[a-z0-9]+\\.[0-9]*[a-z]+$", var.instance_class))
    error_message = "instance_class must be an RDS instance class such as db.r6g.large."
  }
}

variable "allocated_storage" {
  description = "Initial storage in GiB."
  type        = number

  validation {
    condition     = var.allocated_storage >= 20 && var.allocated_storage <= 65536
    error_message = "allocated_storage must be from 20 to 65536 GiB."
  }
}

variable "max_allocated_storage" {
  description = "Ceiling in GiB that storage autoscaling may grow to."
  type        = number

  validation {
    condition     = var.max_allocated_storage >= 20 && var.max_allocated_storage <= 65536
    error_message = "max_allocated_storage must be from 20 to 65536 GiB."
  }
}

variable "multi_az" {
  description = "Whether a synchronous standby runs in another zone (production)."
  type        = bool
}

variable "backup_retention_days" {
  description = "Days of automated backups and point-in-time recovery."
  type        = number

  validation {
    condition     = var.backup_retention_days >= 1 && var.backup_retention_days <= 35
    error_message = "backup_retention_days must be from 1 to 35 (0 would turn backups off)."
  }
}

variable "deletion_protection" {
  description = "Whether the instance refuses to be deleted until this is turned off (production)."
  type        = bool
}

variable "database_name" {
  description = "Database created with the instance: the one the sql/ migrations run in."
  type        = string
  default     = "sluice"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,62}$", var.database_name))
    error_message = "database_name must be a lowercase PostgreSQL identifier."
  }
}

variable "master_username" {
  description = "Owner role of the database, which the migrations run as; its password lives in the RDS-managed secret."
  type        = string
  default     = "sluice"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,62}$", var.master_username)) && !contains(["postgres", "rdsadmin", "admin"], var.master_username)
    error_message = "master_username must be a lowercase PostgreSQL identifier other than a reserved one."
  }
}

variable "app_roles" {
  description = "Login roles the platform uses, each with the database it connects to; each gets a generated password in its own secret."
  type        = map(string)
  default = {
    sluice_writer = "sluice"
    sluice_reader = "sluice"
    airflow       = "airflow"
  }

  validation {
    condition     = alltrue([for role, database in var.app_roles : can(regex("^[a-z][a-z0-9_]{0,62}$", role)) && can(regex("^[a-z][a-z0-9_]{0,62}$", database))])
    error_message = "app_roles must map lowercase PostgreSQL role names to lowercase database names."
  }
}

variable "slow_query_ms" {
  description = "Statements slower than this many milliseconds are logged."
  type        = number
  default     = 1000

  validation {
    condition     = var.slow_query_ms >= 100
    error_message = "slow_query_ms must be at least 100, or the log drowns in ordinary queries."
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

variable "secrets_kms_key_arn" {
  description = "ARN of the KMS key that encrypts the master and application secrets."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/", var.secrets_kms_key_arn))
    error_message = "secrets_kms_key_arn must be a KMS key ARN."
  }
}

variable "logs_kms_key_arn" {
  description = "ARN of the KMS key that encrypts the exported PostgreSQL logs."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/", var.logs_kms_key_arn))
    error_message = "logs_kms_key_arn must be a KMS key ARN."
  }
}

variable "log_retention_days" {
  description = "Days the exported PostgreSQL logs are kept."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of the values CloudWatch Logs accepts (e.g. 30, 90, 365, 731)."
  }
}
