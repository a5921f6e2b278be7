output "address" {
  description = "Host name of the instance."
  value       = aws_db_instance.this.address
}

output "port" {
  description = "Port of the instance."
  value       = aws_db_instance.this.port
}

output "database_name" {
  description = "Database the migrations run in."
  value       = aws_db_instance.this.db_name
}

output "instance_arn" {
  description = "ARN of the instance."
  value       = aws_db_instance.this.arn
}

output "master_secret_arn" {
  description = "ARN of the RDS-managed secret with the owner role's username and password (rotated by RDS)."
  value       = aws_db_instance.this.master_user_secret[0].secret_arn
}

output "app_secret_arns" {
  description = "ARN of each application role's secret (username, password, host, port, dbname, url), by role."
  value       = { for role, secret in aws_secretsmanager_secret.app : role => secret.arn }
}

output "security_group_id" {
  description = "Security group of the instance."
  value       = aws_security_group.this.id
}
