output "role_arns" {
  description = "ARN of each workload's role, by workload: the eks.amazonaws.com/role-arn annotation of its service accounts."
  value       = { for workload, role in aws_iam_role.this : workload => role.arn }
}

output "app_role_arn" {
  description = "ARN of the role of the Helm chart's pods: the eks.amazonaws.com/role-arn annotation of serviceAccount."
  value       = aws_iam_role.this["app"].arn
}

output "airflow_role_arn" {
  description = "ARN of the role of Airflow's pods: the eks.amazonaws.com/role-arn annotation of the Airflow chart's service accounts."
  value       = aws_iam_role.this["airflow"].arn
}

output "secrets_role_arn" {
  description = "ARN of the role that reads the connection secrets to fill the chart's existingSecret (an External Secrets SecretStore)."
  value       = aws_iam_role.this["secrets"].arn
}

output "service_accounts" {
  description = "Service account names each role trusts, by workload, in the namespace below."
  value       = var.service_accounts
}

output "namespace" {
  description = "Namespace the trusted service accounts live in."
  value       = var.namespace
}
