output "primary_endpoint_address" {
  description = "Host name of the primary (reads and writes)."
  value       = aws_elasticache_replication_group.this.primary_endpoint_address
}

output "reader_endpoint_address" {
  description = "Host name that spreads reads over the replicas."
  value       = aws_elasticache_replication_group.this.reader_endpoint_address
}

output "port" {
  description = "Port of the replication group (TLS only)."
  value       = aws_elasticache_replication_group.this.port
}

output "auth_secret_arn" {
  description = "ARN of the secret with the AUTH token, host, port and rediss:// URL."
  value       = aws_secretsmanager_secret.auth.arn
}

output "security_group_id" {
  description = "Security group of the replication group."
  value       = aws_security_group.this.id
}
