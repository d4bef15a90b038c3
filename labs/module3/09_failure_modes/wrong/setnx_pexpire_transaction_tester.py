"""Known-wrong (a tester's answer): the lock taken with SETNX and PEXPIRE in one MULTI/EXEC:
the PEXPIRE runs when SETNX lost too, so every waiter sets the holder's lock's TTL again."""
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


def _release(client, lk, token):
    client.eval(RELEASE_LOCK, 1, lk, token)


def get_product_protected(client, db, product_id: str) -> dict | None:
    key = cache_key(product_id)
    lk = lock_key(product_id)
    while True:
        raw = client.get(key)
        if raw is not None:
            return json.loads(raw)
        token = secrets.token_hex(16)
        pipe = client.pipeline(transaction=True)
        pipe.setnx(lk, token)
        pipe.pexpire(lk, LOCK_TTL_MS)
        got, _ = pipe.execute()
        if got:
            try:
                raw = client.get(key)
                if raw is not None:
                    return json.loads(raw)
                record = db.get_product(product_id)
                if record is None:
                    client.set(key, json.dumps(None), ex=NEGATIVE_TTL_SECONDS)
                else:
                    client.set(key, json.dumps(record), ex=ttl_with_jitter(CACHE_TTL_SECONDS, TTL_SPREAD_SECONDS))
                return record
            finally:
                _release(client, lk, token)
        time.sleep(WAIT_SECONDS)


IF_NEWER = """
local cur = redis.call('GET', KEYS[1])
if cur then
    local old = cjson.decode(cur)
    if type(old) == 'table' and old['version'] ~= nil and tonumber(old['version']) >= tonumber(ARGV[2]) then
        return 0
    end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', tonumber(ARGV[3]))
return 1
"""


def cache_if_newer(client, record: dict) -> bool:
    ttl = ttl_with_jitter(CACHE_TTL_SECONDS, TTL_SPREAD_SECONDS)
    return client.eval(IF_NEWER, 1, cache_key(record["id"]), json.dumps(record), record["version"], ttl) == 1
