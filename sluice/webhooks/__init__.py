"""Webhooks: subscribers to the change feed, and their delivery."""
