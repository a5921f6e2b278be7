output "role_arns" {
  description = "ARN of each workload's role, by workload: the eks.amazonaws.com/role-arn annotation of its service accounts."
  value       = { for workload, role in aws_iam_role.this : workload => role.arn }
}

output "service_accounts" {
  description = "Service account names each role trusts, by workload, in the namespace below."
  value       = var.service_accounts
}

output "namespace" {
  description = "Namespace the trusted service accounts live in."
  value       = var.namespace
}
