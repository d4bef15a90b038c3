"""Known-wrong: shortens the TTL to one second instead of invalidating."""

import json

CACHE_TTL_SECONDS = 300


def get_product_details(client, db, product_id):
    key = f"product:{product_id}:details"
    cached = client.get(key)
    if cached is not None:
        return json.loads(cached)
    record = db.get_product(product_id)
    if record is not None:
        client.set(key, json.dumps(record), ex=CACHE_TTL_SECONDS)
    return record


def update_product(client, db, product_id, changes):
    record = db.update_product(product_id, changes)
    client.expire(f"product:{product_id}:details", 1)
    return record
