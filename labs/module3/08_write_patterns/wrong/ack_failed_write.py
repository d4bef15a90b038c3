"""Known-wrong: a database write that raises is caught and logged, and the entry is
acknowledged anyway ("so one bad change cannot block the queue"): the change is lost."""

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
    """Update the cached record at once and queue the change for the database."""
    cached = client.get(cache_key(product_id))
    if cached is not None:
        record = {**json.loads(cached), **changes}
        client.set(cache_key(product_id), json.dumps(record), keepttl=True)
    client.xadd(WRITE_QUEUE, {"product_id": product_id, "changes": json.dumps(changes)})


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
                try:
                    db.update_product(fields["product_id"], json.loads(fields["changes"]))
                    applied += 1
                except Exception as error:  # noqa: BLE001 - the known-wrong part
                    print(f"could not apply {entry_id}: {error}")
                client.xack(WRITE_QUEUE, GROUP, entry_id)
    return applied
