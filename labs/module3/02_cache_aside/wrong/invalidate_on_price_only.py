"""Known-wrong: invalidates the cached record only when the price changes, so a change to any
other field (the name, the stock) stays stale until the TTL ends."""

import json

CACHE_TTL_SECONDS = 300


def cache_key(product_id):
    return f"product:{product_id}:details"


def get_product_details(client, db, product_id):
    cached = client.get(cache_key(product_id))
    if cached is not None:
        return json.loads(cached)
    record = db.get_product(product_id)
    if record is not None:
        client.set(cache_key(product_id), json.dumps(record), ex=CACHE_TTL_SECONDS)
    return record


def update_product(client, db, product_id, changes):
    record = db.update_product(product_id, changes)
    if "price" in changes:  # only a new price matters to the shop, or so it seemed
        client.delete(cache_key(product_id))
    return record
