"""Known-wrong (a tester's answer): every reader takes the lock with the word 'locked'."""
import json, random, secrets, time, valkey
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
def cache_key(product_id):
    return f"product:{product_id}:details"
def lock_key(product_id):
    return f"product:{product_id}:lock"
def ttl_with_jitter(base, spread):
    return max(1, base + random.randint(-spread, spread))
def get_product_protected(client, db, product_id):
    key, lk = cache_key(product_id), lock_key(product_id)
    while True:
        raw = client.get(key)
        if raw is not None:
            return json.loads(raw)
        token = 'locked'
        if client.set(lk, token, nx=True, px=LOCK_TTL_MS):
            try:
                raw = client.get(key)
                if raw is not None:
                    return json.loads(raw)
                rec = db.get_product(product_id)
                if rec is None:
                    client.set(key, json.dumps(None), ex=NEGATIVE_TTL_SECONDS)
                else:
                    client.set(key, json.dumps(rec), ex=ttl_with_jitter(CACHE_TTL_SECONDS, TTL_SPREAD_SECONDS))
                return rec
            finally:
                client.eval(RELEASE_LOCK, 1, lk, token)
        time.sleep(WAIT_SECONDS)
CACHE_IF_NEWER = """
local cur = redis.call('GET', KEYS[1])
if cur then
  local old = cjson.decode(cur)
  if type(old) == 'table' and old['version'] ~= nil and tonumber(old['version']) >= tonumber(ARGV[2]) then
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
return 1
"""
def cache_if_newer(client, record):
    return client.eval(CACHE_IF_NEWER, 1, cache_key(record["id"]), json.dumps(record), record["version"],
                       ttl_with_jitter(CACHE_TTL_SECONDS, TTL_SPREAD_SECONDS)) == 1
