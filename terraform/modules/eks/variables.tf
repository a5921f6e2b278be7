variable "name" {
  description = "Name of the EKS cluster and prefix of its roles, e.g. sluice-production."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name))
    error_message = "name must be 3-32 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "kubernetes_version" {
  description = "Kubernetes minor version of the control plane, e.g. 1.33; nodes follow it."
  type        = string

  validation {
    condition     = can(regex("^1\\.(29|3[0-9])$", var.kubernetes_version))
    error_message = "kubernetes_version must be a minor version from 1.29 on, e.g. 1.33."
  }
}

variable "subnet_ids" {
  description = "Private subnets of the control plane's network interfaces and of the nodes."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2 && alltrue([for id in var.subnet_ids : can(regex("^subnet-[0-9a-f]+$", id))])
    error_message = "subnet_ids must hold at least two subnet IDs (subnet-...), in different zones."
  }
}

variable "endpoint_public_access" {
  description = "Whether the Kubernetes API is also reachable from the internet (from public_access_cidrs only); the private endpoint is always on."
  type        = bool
  default     = false
}

variable "public_access_cidrs" {
  description = "IPv4 ranges allowed to the public API endpoint when it is on (office or VPN egress)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for cidr in var.public_access_cidrs : can(cidrhost(cidr, 0)) && !startswith(cidr, "0.0.0.0/")])
    error_message = "public_access_cidrs must be IPv4 CIDRs and may not include 0.0.0.0/0."
  }
}

variable "admin_role_arns" {
  description = "IAM roles granted cluster-admin through EKS access entries (e.g. the platform team's SSO role)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.admin_role_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/", arn))])
    error_message = "admin_role_arns must be IAM role ARNs."
  }
}

variable "secrets_kms_key_arn" {
  description = "ARN of the KMS key that envelope-encrypts Kubernetes secrets."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/", var.secrets_kms_key_arn))
    error_message = "secrets_kms_key_arn must be a KMS key ARN."
  }
}

variable "logs_kms_key_arn" {
  description = "ARN of the KMS key that encrypts the control-plane log group."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/", var.logs_kms_key_arn))
    error_message = "logs_kms_key_arn must be a KMS key ARN."
  }
}

variable "log_retention_days" {
  description = "Days the control-plane logs are kept."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of the values CloudWatch Logs accepts (e.g. 30, 90, 365, 731)."
  }
}

variable "node_instance_types" {
  description = "EC2 instance types of the managed node group, first preferred, e.g. [\"m6i.large\"]."
  type        = list(string)

  validation {
    condition     = length(var.node_instance_types) > 0 && alltrue([for type in var.node_instance_types : can(regex("^[a-z][a-z0-9-]*\\.[0-9]*[a-z]+$", type))])
    error_message = "node_instance_types must hold EC2 instance types such as m6i.large."
  }
}

variable "node_ami_type" {
  description = "EKS-optimized Amazon Linux 2023 AMI of the nodes; must match the instance types' architecture."
  type        = string
  default     = "AL2023_x86_64_STANDARD"

  # Amazon Linux only: the launch template sizes /dev/xvda, which is the data volume on AL2023
  # but only the small OS volume on Bottlerocket.
  validation {
    condition     = contains(["AL2023_x86_64_STANDARD", "AL2023_ARM_64_STANDARD"], var.node_ami_type)
    error_message = "node_ami_type must be AL2023_x86_64_STANDARD or AL2023_ARM_64_STANDARD."
  }
}

variable "node_capacity_type" {
  description = "ON_DEMAND, or SPOT for interruptible (cheaper) nodes."
  type        = string
  default     = "ON_DEMAND"

  validation {
    condition     = contains(["ON_DEMAND", "SPOT"], var.node_capacity_type)
    error_message = "node_capacity_type must be ON_DEMAND or SPOT."
  }
}

variable "node_min_size" {
  description = "Fewest nodes in the group."
  type        = number

  validation {
    condition     = var.node_min_size >= 1 && floor(var.node_min_size) == var.node_min_size
    error_message = "node_min_size must be a whole number of at least 1."
  }
}

variable "node_desired_size" {
  description = "Nodes at creation; the cluster autoscaler owns the number afterwards."
  type        = number

  validation {
    condition     = var.node_desired_size >= 1 && floor(var.node_desired_size) == var.node_desired_size
    error_message = "node_desired_size must be a whole number of at least 1."
  }
}

variable "node_max_size" {
  description = "Most nodes in the group."
  type        = number

  validation {
    condition     = var.node_max_size >= 1 && var.node_max_size <= 100 && floor(var.node_max_size) == var.node_max_size
    error_message = "node_max_size must be a whole number from 1 to 100."
  }
}

variable "node_disk_size" {
  description = "Root volume of each node in GiB (images and emptyDir volumes, e.g. Chromium's cache)."
  type        = number
  default     = 50

  validation {
    condition     = var.node_disk_size >= 20 && var.node_disk_size <= 1000
    error_message = "node_disk_size must be from 20 to 1000 GiB."
  }
}
