output "key_arns" {
  description = "ARN of each key by purpose: eks, logs, postgres, documentdb, redis, kafka, s3, secrets."
  value       = { for purpose, key in aws_kms_key.this : purpose => key.arn }
}

output "key_aliases" {
  description = "Alias of each key by purpose, for the console and the CLI."
  value       = { for purpose, alias in aws_kms_alias.this : purpose => alias.name }
}
