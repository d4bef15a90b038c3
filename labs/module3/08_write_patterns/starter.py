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
    """Update the database first, then cache the record it returns (JSON, with a TTL of
    CACHE_TTL_SECONDS) and return that record. For an unknown product the database raises
    KeyError: let it reach the caller, and cache nothing."""
    # TODO
    raise NotImplementedError


def write_back(client, product_id: str, changes: dict) -> None:
    """Update the cached record at once, keeping its remaining TTL, and queue the change on
    WRITE_QUEUE with XADD, fields {"product_id": ..., "changes": <JSON>}. When the product is
    not cached, cache nothing (a record built from the changes alone would pass for the whole
    product) but still queue the change. Do not touch the database."""
    # TODO
    raise NotImplementedError


def flush_write_queue(client, db) -> int:
    """Apply queued changes to the database, in order, through the consumer group GROUP.
    Acknowledge each entry right after its own database write (never before it, and not
    after the whole batch: a crash would then repeat the writes already done). Entries read
    but not acknowledged before a crash are applied on the next call. Return how many
    changes were applied (0 when nothing is queued, even before the stream exists)."""
    # TODO: create the group (once), read pending entries ("0") then new ones (">").
    raise NotImplementedError
