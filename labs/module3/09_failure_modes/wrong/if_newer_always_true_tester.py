"""Known-wrong (a tester's answer): cache_if_newer returns "eval result is not None" so it says True even when it did not store."""
import json
import random
import secrets
import time

CACHE_TTL_SECONDS: int = 300
TTL_SPREAD_SECONDS: int = 60
NEGATIVE_TTL_SECONDS: int = 30
LOCK_TTL_MS: int = 2000
WAIT_SECONDS: float = 0.02

RELEASE_LOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""


def cache_key(product_id: str) -> str:
    return f"product:{product_id}:details"


def lock_key(product_id: str) -> str:
    return f"product:{product_id}:lock"


def ttl_with_jitter(base: int, spread: int) -> int:
    return max(1, random.randint(base - spread, base + spread))


def get_product_protected(client, db, product_id):
    key = cache_key(product_id)
    while True:
        cached = client.get(key)
        if cached is not None:
            return json.loads(cached)
        token = secrets.token_hex(16)
        if client.set(lock_key(product_id), token, nx=True, px=LOCK_TTL_MS):
            try:
                cached = client.get(key)
                if cached is not None:
                    return json.loads(cached)
                record = db.get_product(product_id)
                if record is None:
                    client.set(key, json.dumps(None), ex=NEGATIVE_TTL_SECONDS)
                else:
                    client.set(key, json.dumps(record), ex=ttl_with_jitter(CACHE_TTL_SECONDS, TTL_SPREAD_SECONDS))
                return record
            finally:
                client.eval(RELEASE_LOCK, 1, lock_key(product_id), token)
        time.sleep(WAIT_SECONDS)


CACHE_IF_NEWER = """
local cur = redis.call('GET', KEYS[1])
if cur then
  local ok, old = pcall(cjson.decode, cur)
  if ok and type(old) == 'table' and old['version'] ~= nil and tonumber(old['version']) >= tonumber(ARGV[2]) then
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
return 1
"""


def cache_if_newer(client, record):
    key = cache_key(record["id"]) if "id" in record else cache_key(record["product_id"])
    return client.eval(CACHE_IF_NEWER, 1, key, json.dumps(record), int(record["version"]),
                            ttl_with_jitter(CACHE_TTL_SECONDS, TTL_SPREAD_SECONDS)) is not None
