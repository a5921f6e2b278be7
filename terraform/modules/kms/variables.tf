variable "name" {
  description = "Prefix of the keys' aliases and descriptions, e.g. sluice-production."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name))
    error_message = "name must be 3-32 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "deletion_window_days" {
  description = "Days a scheduled key deletion waits before the key (and every byte encrypted with it) is gone."
  type        = number
  default     = 30

  validation {
    condition     = var.deletion_window_days >= 7 && var.deletion_window_days <= 30 && floor(var.deletion_window_days) == var.deletion_window_days
    error_message = "deletion_window_days must be a whole number from 7 to 30 (the KMS limits)."
  }
}

variable "rotation_period_days" {
  description = "Days between automatic rotations of each key's material."
  type        = number
  default     = 365

  validation {
    condition     = var.rotation_period_days >= 90 && var.rotation_period_days <= 2560 && floor(var.rotation_period_days) == var.rotation_period_days
    error_message = "rotation_period_days must be a whole number from 90 to 2560 (the KMS limits)."
  }
}
