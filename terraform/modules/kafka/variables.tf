variable "name" {
  description = "Prefix of the cluster, its configuration and group, e.g. sluice-production."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name))
    error_message = "name must be 3-32 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "vpc_id" {
  description = "VPC of the brokers' security group."
  type        = string

  validation {
    condition     = can(regex("^vpc-[0-9a-f]+$", var.vpc_id))
    error_message = "vpc_id must be a VPC ID (vpc-...)."
  }
}

variable "subnet_ids" {
  description = "Database subnets, one per zone; the brokers are spread evenly over them."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) == 3 && alltrue([for id in var.subnet_ids : can(regex("^subnet-[0-9a-f]+$", id))])
    error_message = "subnet_ids must hold three subnet IDs (subnet-...), one per zone."
  }
}

variable "allowed_security_group_ids" {
  description = "Security groups whose members may connect to the brokers (the EKS cluster's group)."
  type        = list(string)

  validation {
    condition     = alltrue([for id in var.allowed_security_group_ids : can(regex("^sg-[0-9a-f]+$", id))])
    error_message = "allowed_security_group_ids must hold security group IDs (sg-...)."
  }
}

variable "kafka_version" {
  description = "MSK Kafka version, 3.x (e.g. 3.7.x: MSK applies the patch releases)."
  type        = string
  default     = "3.7.x"

  validation {
    condition     = can(regex("^3\\.[0-9]+\\.([0-9]+|x)$", var.kafka_version))
    error_message = "kafka_version must be a Kafka 3 version as MSK names them, e.g. 3.6.0 or 3.7.x."
  }
}

variable "broker_instance_type" {
  description = "Broker instance type, e.g. kafka.t3.small or kafka.m7g.large."
  type        = string

  validation {
    condition     = can(regex("^kafka\\.[a-z0-9]+\\.[0-9]*[a-z]+$", var.broker_instance_type))
    error_message = "broker_instance_type must be an MSK broker type such as kafka.m7g.large."
  }
}

variable "broker_count" {
  description = "Brokers: a multiple of the three zones, at least three (replication factor 3)."
  type        = number

  validation {
    condition     = var.broker_count >= 3 && var.broker_count % 3 == 0
    error_message = "broker_count must be a multiple of 3 and at least 3."
  }
}

variable "broker_volume_size" {
  description = "EBS storage per broker in GiB."
  type        = number

  validation {
    condition     = var.broker_volume_size >= 1 && var.broker_volume_size <= 16384
    error_message = "broker_volume_size must be from 1 to 16384 GiB."
  }
}

variable "kms_key_arn" {
  description = "ARN of the customer-managed KMS key for the brokers' storage."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "logs_kms_key_arn" {
  description = "ARN of the KMS key that encrypts the broker log group."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/", var.logs_kms_key_arn))
    error_message = "logs_kms_key_arn must be a KMS key ARN."
  }
}

variable "log_retention_days" {
  description = "Days the broker logs are kept."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of the values CloudWatch Logs accepts (e.g. 30, 90, 365, 731)."
  }
}
