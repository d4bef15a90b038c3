"""Known-wrong: the flush strip()s the queued product id before the database write, so a
change queued for " P1 " is written to "P1", another product (or none)."""

import json

import valkey

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
    """Queue the change and update the cached record in one transaction (MULTI/EXEC), keeping
    its remaining TTL; WATCH makes it start again when another writer changed the record
    between our read and our write, so two write-backs at the same moment both survive."""
    key = cache_key(product_id)
    entry = {"product_id": product_id, "changes": json.dumps(changes)}

    def queue_and_merge(tx) -> None:
        cached = tx.get(key)  # WATCHing: runs at once, and EXEC fails if the key changes
        tx.multi()
        tx.xadd(WRITE_QUEUE, entry)  # queued first, in the same EXEC as the cache update
        if cached is not None:  # not cached: cache nothing, a partial record is not the product
            tx.set(key, json.dumps({**json.loads(cached), **changes}), keepttl=True)

    client.transaction(queue_and_merge, key)  # retries queue_and_merge after a WatchError


def _ensure_group(client) -> None:
    try:
        client.xgroup_create(WRITE_QUEUE, GROUP, id="0", mkstream=True)
    except valkey.ResponseError as error:
        if "BUSYGROUP" not in str(error):  # the group exists already: fine
            raise


def flush_write_queue(client, db) -> int:
    """Apply queued changes in order; acknowledge each only after its database write."""
    _ensure_group(client)
    applied = 0
    # First what this consumer read before a crash but never acknowledged, then new entries.
    for start in ("0", ">"):
        while True:
            reply = client.xreadgroup(GROUP, CONSUMER, {WRITE_QUEUE: start}, count=100)
            entries = reply[0][1] if reply else []
            if not entries:
                break
            for entry_id, fields in entries:
                db.update_product(fields["product_id"].strip(), json.loads(fields["changes"]))
                client.xack(WRITE_QUEUE, GROUP, entry_id)  # acknowledged entries leave "0"
                applied += 1
    return applied
