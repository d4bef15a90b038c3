"""Accepted: SETEX for write-through; write-back's XADD and cache update in one MULTI/EXEC under
WATCH, in its own retry loop; the group created only when XINFO GROUPS lacks it; every entry
read in one XREADGROUP."""

import json

import valkey

CACHE_TTL_SECONDS = 300
WRITE_QUEUE = "product:write-queue"
GROUP = "db-writers"
CONSUMER = "flusher"


def cache_key(product_id: str) -> str:
    return f"product:{product_id}:details"


def write_through(client, db, product_id, changes):
    record = db.update_product(product_id, changes)
    client.setex(cache_key(product_id), CACHE_TTL_SECONDS, json.dumps(record))
    return record


def write_back(client, product_id, changes):
    key = cache_key(product_id)
    with client.pipeline() as tx:
        while True:  # again whenever another writer changed the record after our WATCH
            try:
                tx.watch(key)
                cached = tx.get(key)
                tx.multi()  # the queue and the cache change together, or not at all
                tx.xadd(WRITE_QUEUE, {"product_id": product_id, "changes": json.dumps(changes)})
                if cached is not None:
                    merged = {**json.loads(cached), **changes}
                    tx.set(key, json.dumps(merged), keepttl=True)
                tx.execute()
                return
            except valkey.WatchError:
                continue


def _ensure_group(client):
    exists = client.exists(WRITE_QUEUE)
    if not exists or GROUP not in [g["name"] for g in client.xinfo_groups(WRITE_QUEUE)]:
        client.xgroup_create(WRITE_QUEUE, GROUP, id="0", mkstream=True)


def flush_write_queue(client, db):
    _ensure_group(client)
    applied = 0
    for start in ("0", ">"):
        reply = client.xreadgroup(GROUP, CONSUMER, {WRITE_QUEUE: start})  # no COUNT: all of them
        for _stream, entries in reply or []:
            for entry_id, fields in entries:
                db.update_product(fields["product_id"], json.loads(fields["changes"]))
                client.xack(WRITE_QUEUE, GROUP, entry_id)
                applied += 1
    return applied
