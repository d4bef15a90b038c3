"""Step 08 · Write-through and write-back

`db` is the slow product database (db.update_product(id, changes) -> record).

Check your work with:  workshop check module3 write-patterns
"""

import json

CACHE_TTL_SECONDS = 300
WRITE_QUEUE = "product:write-queue"  # the stream of changes waiting for the database
GROUP = "db-writers"  # the consumer group that applies them
CONSUMER = "flusher"  # this process's name within the group


def cache_key(product_id: str) -> str:
    return f"product:{product_id}:details"


def write_through(client, db, product_id: str, changes: dict) -> dict:
    """Update the database, then the cache (JSON, with a TTL); return the new record."""
    # TODO
    raise NotImplementedError


def write_back(client, product_id: str, changes: dict) -> None:
    """Update the cached record at once (keep its TTL) and queue the change on WRITE_QUEUE
    with XADD, fields {"product_id": ..., "changes": <JSON>}. Do not touch the database."""
    # TODO
    raise NotImplementedError


def flush_write_queue(client, db) -> int:
    """Apply queued changes to the database, in order, through the consumer group GROUP.
    Acknowledge each entry only after its database write. Entries read but not acknowledged
    before a crash are applied on the next call. Return how many changes were applied."""
    # TODO: create the group (once), read pending entries ("0") then new ones (">").
    raise NotImplementedError
