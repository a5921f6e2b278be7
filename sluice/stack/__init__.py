"""The native local stack: PostgreSQL, Redis, Kafka and a MongoDB-wire server, no Docker.

``sluice stack up`` installs what is missing into the cache, prepares each service's data
under ``.stack/``, runs the services under supervisord and waits until each answers through
its own protocol.
"""
