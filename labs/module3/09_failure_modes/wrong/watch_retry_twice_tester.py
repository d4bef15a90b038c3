import json, random, secrets, time
import valkey

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

def cache_key(product_id): return f"product:{product_id}:details"
def lock_key(product_id): return f"product:{product_id}:lock"

def ttl_with_jitter(base, spread):
    return max(1, random.randint(base - spread, base + spread))

_MISS = object()

def _read(client, pid):
    raw = client.get(cache_key(pid))
    return _MISS if raw is None else json.loads(raw)

def get_product_protected(client, db, product_id):
    while True:
        hit = _read(client, product_id)
        if hit is not _MISS:
            return hit
        token = secrets.token_hex(16)
        if not client.set(lock_key(product_id), token, nx=True, px=LOCK_TTL_MS):
            time.sleep(WAIT_SECONDS)
            continue
        try:
            hit = _read(client, product_id)
            if hit is not _MISS:
                return hit
            rec = db.get_product(product_id)
            if rec is None:
                client.set(cache_key(product_id), "null", ex=NEGATIVE_TTL_SECONDS)
            else:
                client.set(cache_key(product_id), json.dumps(rec),
                           ex=ttl_with_jitter(CACHE_TTL_SECONDS, TTL_SPREAD_SECONDS))
            return rec
        finally:
            client.eval(RELEASE_LOCK, 1, lock_key(product_id), token)

def cache_if_newer(client, record):
    key = cache_key(record["id"])
    with client.pipeline() as pipe:
        for _ in range(2):
            try:
                pipe.watch(key)
                cur = pipe.get(key)
                if cur is not None:
                    old = json.loads(cur)
                    if old is not None and old.get("version", -1) >= record["version"]:
                        pipe.unwatch()
                        return False
                pipe.multi()
                pipe.set(key, json.dumps(record), ex=ttl_with_jitter(CACHE_TTL_SECONDS, TTL_SPREAD_SECONDS))
                pipe.execute()
                return True
            except valkey.WatchError:
                continue
