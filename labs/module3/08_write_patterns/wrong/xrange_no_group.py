"""Known-wrong: reads with XRANGE and deletes what it applied; no consumer group."""

import json

CACHE_TTL_SECONDS = 300
WRITE_QUEUE = "product:write-queue"
GROUP = "db-writers"
CONSUMER = "flusher"


def cache_key(product_id: str) -> str:
    return f"product:{product_id}:details"


def write_through(client, db, product_id: str, changes: dict) -> dict:
    """Update the database, then the cache; return the new record."""
    record = db.update_product(product_id, changes)  # raises for an unknown product: no caching
    client.set(cache_key(product_id), json.dumps(record), ex=CACHE_TTL_SECONDS)
    return record


def write_back(client, product_id: str, changes: dict) -> None:
    """Update the cached record at once and queue the change for the database."""
    cached = client.get(cache_key(product_id))
    if cached is not None:
        record = {**json.loads(cached), **changes}
        client.set(cache_key(product_id), json.dumps(record), keepttl=True)
    client.xadd(WRITE_QUEUE, {"product_id": product_id, "changes": json.dumps(changes)})


def flush_write_queue(client, db) -> int:
    """Apply queued changes in order, deleting each after its database write."""
    applied = 0
    for entry_id, fields in client.xrange(WRITE_QUEUE):
        db.update_product(fields["product_id"], json.loads(fields["changes"]))
        client.xdel(WRITE_QUEUE, entry_id)
        applied += 1
    return applied
