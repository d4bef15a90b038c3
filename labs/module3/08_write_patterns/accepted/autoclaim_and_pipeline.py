"""Accepted: XAUTOCLAIM for pending entries; write-through cache refresh in MULTI/EXEC; write-back
in one Lua script that queues the change and merges it into the cached record."""

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


# One script queues the change and writes the merged record: atomic, so no crash splits the
# two writes. The merge is done here in Python (Lua's cjson would turn an empty list into {});
# the script writes it only if the cached text is still the one merged from, else we retry.
QUEUE_AND_SWAP = """
local cached = redis.call('GET', KEYS[1])
if (cached or '') ~= ARGV[3] then return 0 end
redis.call('XADD', KEYS[2], '*', 'product_id', ARGV[1], 'changes', ARGV[2])
if cached then redis.call('SET', KEYS[1], ARGV[4], 'KEEPTTL') end
return 1
"""


def write_back(client, product_id: str, changes: dict) -> None:
    """Queue the change and update the cached record in one Lua script."""
    key = cache_key(product_id)
    while True:
        cached = client.get(key)
        merged = "" if cached is None else json.dumps({**json.loads(cached), **changes})
        args = (product_id, json.dumps(changes), cached or "", merged)
        if client.eval(QUEUE_AND_SWAP, 2, key, WRITE_QUEUE, *args) == 1:
            return


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
