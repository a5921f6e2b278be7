# production: every zone carries a NAT gateway, a database standby and a cache replica; backups
# are kept longest and nothing can be deleted by accident.
environment        = "production"
region             = "eu-west-1"
availability_zones = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
vpc_cidr           = "10.30.0.0/16"
single_nat_gateway = false

log_retention_days       = 731
kms_deletion_window_days = 30
deletion_protection      = true

kubernetes_version  = "1.33"
node_instance_types = ["m6i.xlarge"]
node_min_size       = 3
node_desired_size   = 3
node_max_size       = 12

postgres_instance_class        = "db.r6g.large"
postgres_allocated_storage     = 100
postgres_max_allocated_storage = 1000
postgres_multi_az              = true
database_backup_retention_days = 30

redis_node_type          = "cache.r7g.large"
redis_num_cache_clusters = 3

kafka_broker_instance_type = "kafka.m7g.large"
kafka_broker_count         = 3
kafka_broker_volume_size   = 500

documentdb_instance_class       = "db.r6g.large"
documentdb_instance_count       = 3
documentdb_performance_insights = true

backup_bucket_retention_days = 365
export_bucket_retention_days = 90
