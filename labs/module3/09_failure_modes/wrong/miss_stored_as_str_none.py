"""Known-wrong (a fresh tester's answer, rewritten on the solution): a miss is remembered as
str(None), the text 'None', not as JSON null. The next read of the id runs json.loads('None')
and raises: the message names the stored text, not only the JSONDecodeError."""

import json
import random
import secrets
import time

CACHE_TTL_SECONDS: int = 300
TTL_SPREAD_SECONDS: int = 60
NEGATIVE_TTL_SECONDS: int = 30
LOCK_TTL_MS: int = 2000
WAIT_SECONDS: float = 0.02

# Compare-and-delete in one step on the server: GET then DEL from Python would leave a gap in
# which the lock can expire and be taken by another reader, whose lock we would then delete.
RELEASE_LOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""

# Store ARGV[1] (a record as JSON) only when the cached record is older than ARGV[2].
STORE_IF_NEWER = """
local current = redis.call('GET', KEYS[1])
if current then
    local ok, cached = pcall(cjson.decode, current)
    if ok and type(cached) == 'table' and tonumber(cached['version'])
            and tonumber(cached['version']) >= tonumber(ARGV[2]) then
        return 0
    end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
return 1
"""


def cache_key(product_id: str) -> str:
    """The Valkey key for a product's record (as in step 02)."""
    return f"product:{product_id}:details"


def lock_key(product_id: str) -> str:
    """The key of the lock that lets one reader at a time refill a product's entry."""
    return f"product:{product_id}:lock"


def ttl_with_jitter(base: int, spread: int) -> int:
    """A random whole number of seconds within `spread` of `base`, and at least 1."""
    return max(1, base + random.randint(-spread, spread))


def get_product_protected(client, db, product_id: str) -> dict | None:
    """The product's record, read through the cache with stampede protection."""
    key = cache_key(product_id)
    while True:
        cached = client.get(key)
        if cached is not None:
            return json.loads(cached)  # "null" is a remembered miss: None
        token = secrets.token_hex(16)
        if client.set(lock_key(product_id), token, nx=True, px=LOCK_TTL_MS):
            try:
                # Someone may have filled the entry between our GET and our lock.
                cached = client.get(key)
                if cached is not None:
                    return json.loads(cached)
                record = db.get_product(product_id)
                if record is None:
                    client.set(key, str(None), ex=NEGATIVE_TTL_SECONDS)  # 'None' is no JSON
                else:
                    ttl = ttl_with_jitter(CACHE_TTL_SECONDS, TTL_SPREAD_SECONDS)
                    client.set(key, json.dumps(record), ex=ttl)
                return record
            finally:
                client.eval(RELEASE_LOCK, 1, lock_key(product_id), token)
        time.sleep(WAIT_SECONDS)  # another reader is filling it: wait, then look again


def cache_if_newer(client, record: dict) -> bool:
    """Cache `record` unless the cache already holds the same or a newer version."""
    ttl = ttl_with_jitter(CACHE_TTL_SECONDS, TTL_SPREAD_SECONDS)
    stored = client.eval(
        STORE_IF_NEWER, 1, cache_key(record["id"]), json.dumps(record), record["version"], ttl
    )
    return stored == 1
