"""Known-wrong (found by a tester): write_back merges the change into the cached record
with Lua's cjson, which writes an empty list as {}."""

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
    with client.pipeline() as tx:
        tx.set(cache_key(product_id), json.dumps(record))
        tx.expire(cache_key(product_id), CACHE_TTL_SECONDS)
        tx.execute()
    return record


# One script queues the change and merges it into the cached record: atomic, so no other
# write-back comes in between and no crash splits the two writes. cjson writes 12300.0 as 12300,
# which json.loads reads back as an equal number.
QUEUE_AND_MERGE = """
redis.call('XADD', KEYS[2], '*', 'product_id', ARGV[1], 'changes', ARGV[2])
local cached = redis.call('GET', KEYS[1])
if cached then
    local record = cjson.decode(cached)
    for field, value in pairs(cjson.decode(ARGV[2])) do record[field] = value end
    redis.call('SET', KEYS[1], cjson.encode(record), 'KEEPTTL')
end
"""


def write_back(client, product_id: str, changes: dict) -> None:
    """Queue the change and update the cached record in one Lua script."""
    client.eval(
        QUEUE_AND_MERGE, 2, cache_key(product_id), WRITE_QUEUE, product_id, json.dumps(changes)
    )


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
    # Claim whatever any consumer left pending (idle for 0 ms or more), then read new ones.
    for start in ("claim", ">"):
        while True:
            if start == "claim":
                _, entries, _ = client.xautoclaim(WRITE_QUEUE, GROUP, CONSUMER, 0, "0-0", count=100)
            else:
                reply = client.xreadgroup(GROUP, CONSUMER, {WRITE_QUEUE: start}, count=100)
                entries = reply[0][1] if reply else []
            if not entries:
                break
            for entry_id, fields in entries:
                db.update_product(fields["product_id"], json.loads(fields["changes"]))
                client.xack(WRITE_QUEUE, GROUP, entry_id)  # acknowledged entries leave "0"
                applied += 1
    return applied
