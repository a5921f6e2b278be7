# staging: production's topology (replicas, protection) on smaller instances, so failovers and
# upgrades are rehearsed here first.
environment        = "staging"
region             = "eu-west-1"
availability_zones = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
vpc_cidr           = "10.20.0.0/16"
single_nat_gateway = true

log_retention_days       = 365
kms_deletion_window_days = 30
deletion_protection      = true

kubernetes_version  = "1.33"
node_instance_types = ["m6i.large"]
node_min_size       = 2
node_desired_size   = 3
node_max_size       = 6

postgres_instance_class        = "db.m6g.large"
postgres_allocated_storage     = 50
postgres_max_allocated_storage = 200
postgres_multi_az              = true
database_backup_retention_days = 7

redis_node_type          = "cache.t4g.medium"
redis_num_cache_clusters = 2

kafka_broker_instance_type = "kafka.m7g.large"
kafka_broker_count         = 3
kafka_broker_volume_size   = 100

documentdb_instance_class       = "db.r6g.large"
documentdb_instance_count       = 2
documentdb_performance_insights = true

backup_bucket_retention_days = 30
export_bucket_retention_days = 30
