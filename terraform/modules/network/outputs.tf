output "vpc_id" {
  description = "ID of the VPC."
  value       = aws_vpc.this.id
}

output "vpc_cidr_block" {
  description = "IPv4 range of the VPC."
  value       = aws_vpc.this.cidr_block
}

output "public_subnet_ids" {
  description = "Public subnets, one per zone: internet-facing load balancers and NAT gateways."
  value       = aws_subnet.public[*].id
}

output "private_subnet_ids" {
  description = "Private subnets, one per zone: the EKS nodes and pods, internal load balancers."
  value       = aws_subnet.private[*].id
}

output "database_subnet_ids" {
  description = "Database subnets, one per zone, without internet routes: RDS, DocumentDB, ElastiCache, MSK."
  value       = aws_subnet.database[*].id
}

output "nat_public_ips" {
  description = "Public addresses the crawlers' traffic leaves from (for allow-lists of crawled sites)."
  value       = aws_eip.nat[*].public_ip
}
