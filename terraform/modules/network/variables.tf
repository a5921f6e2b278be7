variable "name" {
  description = "Name of the VPC and prefix of its resources, e.g. sluice-production."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name))
    error_message = "name must be 3-32 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "cidr_block" {
  description = "IPv4 range of the VPC, /16 to /20; the subnets are carved out of it."
  type        = string

  validation {
    condition     = can(cidrhost(var.cidr_block, 0)) && can(regex("^[0-9.]+/(1[6-9]|20)$", var.cidr_block))
    error_message = "cidr_block must be an IPv4 CIDR with a prefix length from /16 to /20, e.g. 10.30.0.0/16."
  }

  validation {
    condition     = can(cidrhost(var.cidr_block, 0)) && cidrhost(var.cidr_block, 0) == split("/", var.cidr_block)[0]
    error_message = "cidr_block must start on its network address (10.30.0.0/16, not 10.30.1.0/16)."
  }
}

variable "availability_zones" {
  description = "The three availability zones of the subnets, e.g. [\"eu-west-1a\", \"eu-west-1b\", \"eu-west-1c\"]."
  type        = list(string)

  validation {
    condition     = length(var.availability_zones) == 3 && length(distinct(var.availability_zones)) == 3
    error_message = "availability_zones must name three different zones."
  }

  validation {
    condition     = alltrue([for zone in var.availability_zones : can(regex("^[a-z]{2}(-[a-z]+)+-[0-9][a-z]$", zone))])
    error_message = "availability_zones must be zone names such as eu-west-1a."
  }
}

variable "single_nat_gateway" {
  description = "One NAT gateway for all zones (cheaper; egress stops if its zone fails) instead of one per zone."
  type        = bool
  default     = false
}

variable "logs_kms_key_arn" {
  description = "ARN of the KMS key that encrypts the flow-log group."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/", var.logs_kms_key_arn))
    error_message = "logs_kms_key_arn must be a KMS key ARN."
  }
}

variable "log_retention_days" {
  description = "Days the VPC flow logs are kept."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of the values CloudWatch Logs accepts (e.g. 30, 90, 365, 731)."
  }
}
