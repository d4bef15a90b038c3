"""Accepted: delete before and after the database write ("double delete")."""

import json

CACHE_TTL_SECONDS = 120


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
    key = f"product:{product_id}:details"
    client.delete(key)  # readers stop seeing the old record at once...
    record = db.update_product(product_id, changes)
    client.delete(key)  # ...and whatever a reader re-cached meanwhile goes too
    return record
