output "endpoint" {
  description = "Writer endpoint of the cluster."
  value       = aws_docdb_cluster.this.endpoint
}

output "reader_endpoint" {
  description = "Endpoint that spreads reads over the replicas."
  value       = aws_docdb_cluster.this.reader_endpoint
}

output "port" {
  description = "Port of the cluster (TLS only)."
  value       = aws_docdb_cluster.this.port
}

output "cluster_arn" {
  description = "ARN of the cluster."
  value       = aws_docdb_cluster.this.arn
}

output "master_secret_arn" {
  description = "ARN of the DocumentDB-managed secret with the master username and password."
  value       = aws_docdb_cluster.this.master_user_secret[0].secret_arn
}

output "security_group_id" {
  description = "Security group of the cluster."
  value       = aws_security_group.this.id
}
