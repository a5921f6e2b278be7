# dev: one of everything that can be single, smallest sizes, nothing that blocks a teardown.
environment        = "dev"
region             = "eu-west-1"
availability_zones = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
vpc_cidr           = "10.10.0.0/16"
single_nat_gateway = true

log_retention_days       = 365
kms_deletion_window_days = 7
deletion_protection      = false

kubernetes_version  = "1.33"
node_instance_types = ["t3.large"]
node_min_size       = 2
node_desired_size   = 2
node_max_size       = 4

postgres_instance_class        = "db.t4g.medium"
postgres_allocated_storage     = 20
postgres_max_allocated_storage = 100
postgres_multi_az              = false
database_backup_retention_days = 7

redis_node_type          = "cache.t4g.small"
redis_num_cache_clusters = 1

kafka_broker_instance_type = "kafka.t3.small"
kafka_broker_count         = 3
kafka_broker_volume_size   = 20

documentdb_instance_class       = "db.t4g.medium"
documentdb_instance_count       = 1
documentdb_performance_insights = false

backup_bucket_retention_days = 14
export_bucket_retention_days = 14
