"""Accepted: each round of the flush asks for pending (ID 0) and new ('>') entries in one
pipeline, and applies the pending ones first."""

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
    """Asks for pending and new entries in one round trip, pending first."""
    _ensure_group(client)
    applied = 0
    while True:
        pipe = client.pipeline(transaction=False)
        pipe.xreadgroup(GROUP, CONSUMER, {WRITE_QUEUE: "0"}, count=50)
        pipe.xreadgroup(GROUP, CONSUMER, {WRITE_QUEUE: ">"}, count=50)
        pending_reply, new_reply = pipe.execute()
        pending = pending_reply[0][1] if pending_reply else []
        # the '>' read made new entries pending too: the next ID-0 read returns them in order
        entries = pending or (new_reply[0][1] if new_reply else [])
        if not entries:
            return applied
        for entry_id, fields in entries:
            db.update_product(fields["product_id"], json.loads(fields["changes"]))
            client.xack(WRITE_QUEUE, GROUP, entry_id)
            applied += 1
