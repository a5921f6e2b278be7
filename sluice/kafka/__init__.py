"""Kafka helpers shared by spiders, processors, plugins and the stack."""
