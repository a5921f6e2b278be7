variable "bucket_name" {
  description = "Globally unique name of the bucket."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$", var.bucket_name)) && !can(regex("--", var.bucket_name))
    error_message = "bucket_name must be 3-63 lowercase letters, digits or single hyphens (no dots: they break TLS host names)."
  }
}

variable "purpose" {
  description = "What the bucket holds, for its Purpose tag, e.g. backups or dag-bundles."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,40}$", var.purpose))
    error_message = "purpose must be a short lowercase word such as backups."
  }
}

variable "kms_key_arn" {
  description = "ARN of the customer-managed KMS key objects are encrypted with by default."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "noncurrent_version_days" {
  description = "Days an overwritten or deleted object's old version is kept (the undo window)."
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_version_days >= 1 && floor(var.noncurrent_version_days) == var.noncurrent_version_days
    error_message = "noncurrent_version_days must be a whole number of at least 1."
  }
}

variable "infrequent_access_after_days" {
  description = "Days after which objects move to STANDARD_IA (at least 30), or null to keep them in STANDARD."
  type        = number
  default     = null

  validation {
    condition     = var.infrequent_access_after_days == null ? true : var.infrequent_access_after_days >= 30
    error_message = "infrequent_access_after_days must be at least 30 (the S3 minimum for STANDARD_IA) or null."
  }
}

variable "expiration_days" {
  description = "Days after which current objects expire, or null to keep them until deleted."
  type        = number
  default     = null

  validation {
    condition     = var.expiration_days == null ? true : var.expiration_days >= 1
    error_message = "expiration_days must be at least 1 or null."
  }
}
