"""Known-wrong: cache_if_newer stores every record with one fixed TTL, and then waits up to
60 ms for a replica to acknowledge the write (WAIT 1 60; there is none here, so every store
takes the whole 60 ms). Twelve stores then take most of a second: expiry moments spread by
the loop's length alone, which once passed a check that compared them instead of the TTLs."""


import json, random, secrets, time

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

CAS = """
local cur = redis.call('GET', KEYS[1])
if cur and cur ~= 'null' then
  local ok, rec = pcall(cjson.decode, cur)
  if ok and type(rec) == 'table' and rec['version'] ~= nil and tonumber(rec['version']) >= tonumber(ARGV[2]) then
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
return 1
"""

def cache_key(product_id): return f"product:{product_id}:details"
def lock_key(product_id): return f"product:{product_id}:lock"

def ttl_with_jitter(base, spread):
    return max(1, random.randint(base - spread, base + spread))

def get_product_protected(client, db, product_id):
    key = cache_key(product_id)
    while True:
        raw = client.get(key)
        if raw is not None:
            return json.loads(raw)
        token = secrets.token_hex(16)
        if client.set(lock_key(product_id), token, nx=True, px=LOCK_TTL_MS):
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
                client.eval(RELEASE_LOCK, 1, lock_key(product_id), token)
        time.sleep(WAIT_SECONDS)

def cache_if_newer(client, record):
    stored = bool(client.eval(CAS, 1, cache_key(record["id"]), json.dumps(record), record["version"],
                              CACHE_TTL_SECONDS))
    if stored:
        time.sleep(0.05)  # give a replica time to catch up
    return stored
