"""Item pipelines: validation against the shared schemas, then publication to Kafka."""
