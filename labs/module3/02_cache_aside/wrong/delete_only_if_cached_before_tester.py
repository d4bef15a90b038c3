import json
CACHE_TTL_SECONDS: int = 300
def cache_key(product_id): return f"product:{product_id}:details"
def get_product_details(client, db, product_id):
    raw = client.get(cache_key(product_id))
    if raw is not None:
        return json.loads(raw)
    rec = db.get_product(product_id)
    if rec is None: return None
    client.set(cache_key(product_id), json.dumps(rec), ex=CACHE_TTL_SECONDS)
    return rec

def update_product(client, db, product_id, changes):
    old = client.get(cache_key(product_id))
    rec = db.update_product(product_id, changes)
    if old is not None and json.loads(old) != rec:
        client.delete(cache_key(product_id))
    return rec
