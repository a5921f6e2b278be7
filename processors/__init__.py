"""Kafka consumers that store what the spiders publish: raw archiver and normalizer."""
