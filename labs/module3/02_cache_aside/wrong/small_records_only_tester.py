"""Known-wrong (a tester's answer): caches only records whose JSON is at most 512 bytes,
so long products always go to the database."""
import json
CACHE_TTL_SECONDS = 300
def cache_key(product_id):
    return f"product:{product_id}:details"
def get_product_details(client, db, product_id):
    k = cache_key(product_id); v = client.get(k)
    if v: return json.loads(v)
    rec = db.get_product(product_id)
    if rec is None: return None
    s = json.dumps(rec)
    if len(s) <= 512:
        client.set(k, s, ex=CACHE_TTL_SECONDS)
    return rec
def update_product(client, db, product_id, changes):
    rec = db.update_product(product_id, changes); client.delete(cache_key(product_id)); return rec
