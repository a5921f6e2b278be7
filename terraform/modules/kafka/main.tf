# MSK (Kafka 3.x) for the raw item stream and the dead-letter topic. Clients authenticate with
# IAM (SASL/IAM over TLS on 9098); nothing listens in plaintext or without authentication.

locals {
  cluster_name = "${var.name}-kafka"
}

resource "aws_security_group" "this" {
  name        = local.cluster_name
  description = "MSK of ${var.name}: reachable from the EKS workloads only"
  vpc_id      = var.vpc_id

  tags = {
    Name = local.cluster_name
  }
}

resource "aws_vpc_security_group_ingress_rule" "clients" {
  count = length(var.allowed_security_group_ids)

  security_group_id            = aws_security_group.this.id
  referenced_security_group_id = var.allowed_security_group_ids[count.index]
  ip_protocol                  = "tcp"
  from_port                    = 9098
  to_port                      = 9098
  description                  = "Kafka over TLS with IAM authentication from the EKS workloads"
}

resource "aws_vpc_security_group_ingress_rule" "prometheus" {
  count = length(var.allowed_security_group_ids)

  security_group_id            = aws_security_group.this.id
  referenced_security_group_id = var.allowed_security_group_ids[count.index]
  ip_protocol                  = "tcp"
  from_port                    = 11001
  to_port                      = 11002
  description                  = "JMX and node exporters for Prometheus in the EKS cluster"
}

resource "aws_cloudwatch_log_group" "brokers" {
  name              = "/aws/msk/${local.cluster_name}/brokers"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.logs_kms_key_arn
}

# Topics are created by the migrations job with the partition counts of sluice/kafka/topics.py,
# so a typo in a topic name fails instead of creating a one-partition topic.
resource "aws_msk_configuration" "this" {
  name           = local.cluster_name
  kafka_versions = [var.kafka_version]
  description    = "Brokers of ${var.name}: no auto-created topics, writes survive one broker down"

  server_properties = <<-PROPERTIES
    auto.create.topics.enable=false
    default.replication.factor=3
    min.insync.replicas=2
    unclean.leader.election.enable=false
    delete.topic.enable=true
  PROPERTIES
}

resource "aws_msk_cluster" "this" {
  cluster_name           = local.cluster_name
  kafka_version          = var.kafka_version
  number_of_broker_nodes = var.broker_count
  enhanced_monitoring    = "PER_BROKER"

  broker_node_group_info {
    instance_type   = var.broker_instance_type
    client_subnets  = var.subnet_ids
    security_groups = [aws_security_group.this.id]

    storage_info {
      ebs_storage_info {
        volume_size = var.broker_volume_size
      }
    }

    connectivity_info {
      public_access {
        type = "DISABLED"
      }
    }
  }

  client_authentication {
    unauthenticated = false

    sasl {
      iam = true
    }
  }

  encryption_info {
    encryption_at_rest_kms_key_arn = var.kms_key_arn

    encryption_in_transit {
      client_broker = "TLS"
      in_cluster    = true
    }
  }

  configuration_info {
    arn      = aws_msk_configuration.this.arn
    revision = aws_msk_configuration.this.latest_revision
  }

  open_monitoring {
    prometheus {
      jmx_exporter {
        enabled_in_broker = true
      }

      node_exporter {
        enabled_in_broker = true
      }
    }
  }

  logging_info {
    broker_logs {
      cloudwatch_logs {
        enabled   = true
        log_group = aws_cloudwatch_log_group.brokers.name
      }
    }
  }
}
