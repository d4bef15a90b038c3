"""Known-wrong (a fresh tester's answer): WATCH/MULTI/EXEC with a retry loop, but versions compared
as str in Python, so version 10 counts as older than 9.
"""

import json
from valkey.exceptions import WatchError
import random
import secrets
import time

CACHE_TTL_SECONDS = 300
TTL_SPREAD_SECONDS = 60
NEGATIVE_TTL_SECONDS = 30
LOCK_TTL_MS = 2000
WAIT_SECONDS = 0.02
RELEASE_LOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""
_IF_NEWER = """
local cur = redis.call('GET', KEYS[1])
if cur then
  local ok, old = pcall(cjson.decode, cur)
  if ok and type(old) == 'table' and old['version'] ~= nil
     and tonumber(old['version']) >= tonumber(ARGV[2]) then
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', tonumber(ARGV[3]))
return 1
"""


def cache_key(product_id):
    return f"product:{product_id}:details"


def lock_key(product_id):
    return f"product:{product_id}:lock"


def ttl_with_jitter(base, spread):
    return max(1, random.randint(base - spread, base + spread))


def get_product_protected(client, db, product_id):
    key, lk = cache_key(product_id), lock_key(product_id)
    while True:
        raw = client.get(key)
        if raw is not None:
            return json.loads(raw)
        token = secrets.token_hex(16)
        if client.execute_command("SET", lk, token, "NX", "PX", LOCK_TTL_MS):
            try:
                raw = client.get(key)
                if raw is not None:
                    return json.loads(raw)
                rec = db.get_product(product_id)
                if rec is None:
                    client.set(key, json.dumps(None), ex=NEGATIVE_TTL_SECONDS)
                else:
                    client.set(
                        key,
                        json.dumps(rec),
                        ex=ttl_with_jitter(CACHE_TTL_SECONDS, TTL_SPREAD_SECONDS),
                    )
                return rec
            finally:
                client.execute_command("DELIFEQ", lk, token)
        time.sleep(WAIT_SECONDS)




def cache_if_newer(client, record):
    key = cache_key(record["id"])
    with client.pipeline() as p:
        while True:
            try:
                p.watch(key)
                cur = p.get(key)
                old = json.loads(cur) if cur is not None else None
                if isinstance(old, dict) and str(old.get("version", "")) >= str(record["version"]):
                    p.unwatch()
                    return False
                p.multi()
                p.set(
                    key,
                    json.dumps(record),
                    ex=ttl_with_jitter(CACHE_TTL_SECONDS, TTL_SPREAD_SECONDS),
                )
                p.execute()
                return True
            except WatchError:
                continue
