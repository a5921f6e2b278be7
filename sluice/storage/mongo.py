"""MongoDB clients from a URL."""

from __future__ import annotations

import pymongo


def client(url: str, *, timeout: float = 5.0) -> pymongo.MongoClient:
    """A MongoClient for ``url``; ``client.get_default_database()`` is the URL's database."""
    ms = int(timeout * 1000)
    return pymongo.MongoClient(
        url, serverSelectionTimeoutMS=ms, connectTimeoutMS=ms, socketTimeoutMS=ms, tz_aware=True
    )
