"""Accepted: pending entries found with XPENDING and fetched by id (XCLAIM to this consumer);
small reads of new entries in a loop; write-through with SET EX and an explicit re-raise;
write-back queues the change first, then merges it into the cache in a Lua script."""

import contextlib
import json

import valkey

CACHE_TTL_SECONDS = 300
WRITE_QUEUE = "product:write-queue"
GROUP = "db-writers"
CONSUMER = "flusher"


def cache_key(product_id: str) -> str:
    return f"product:{product_id}:details"


def write_through(client, db, product_id, changes):
    try:
        record = db.update_product(product_id, changes)
    except KeyError:
        client.delete(cache_key(product_id))  # nothing stale survives a refused write
        raise
    client.set(cache_key(product_id), json.dumps(record), ex=CACHE_TTL_SECONDS)
    return record


# Writes the merged record only if the cached text is still the one it was merged from (the
# merge is Python's: Lua's cjson would turn an empty list into {}).
SWAP = """
local cached = redis.call('GET', KEYS[1])
if not cached then return 1 end
if cached ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
return 1
"""


def write_back(client, product_id, changes):
    # Queued first: a crash before the merge leaves the old record cached, never a change
    # the database will not get. The swap is one script, so no other write-back splits it.
    client.xadd(WRITE_QUEUE, {"product_id": product_id, "changes": json.dumps(changes)})
    swap = client.register_script(SWAP)
    key = cache_key(product_id)
    while True:
        cached = client.get(key)
        if cached is None:
            return
        merged = json.dumps({**json.loads(cached), **changes})
        if swap(keys=[key], args=[cached, merged]) == 1:
            return


def _apply(client, db, entries):
    for entry_id, fields in entries:
        db.update_product(fields["product_id"], json.loads(fields["changes"]))
        client.xack(WRITE_QUEUE, GROUP, entry_id)
    return len(entries)


def flush_write_queue(client, db):
    with contextlib.suppress(valkey.ResponseError):  # BUSYGROUP: an earlier flush made it
        client.xgroup_create(WRITE_QUEUE, GROUP, id="0", mkstream=True)
    applied = 0
    pending = client.xpending_range(WRITE_QUEUE, GROUP, min="-", max="+", count=10_000)
    if pending:
        ids = [entry["message_id"] for entry in pending]
        applied += _apply(client, db, client.xclaim(WRITE_QUEUE, GROUP, CONSUMER, 0, ids))
    while reply := client.xreadgroup(GROUP, CONSUMER, {WRITE_QUEUE: ">"}, count=10):
        applied += _apply(client, db, reply[0][1])
    return applied
