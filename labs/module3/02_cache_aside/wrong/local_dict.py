"""Known-wrong: a dict in the process in front of Valkey; Valkey is written, never read."""

import json

CACHE_TTL_SECONDS = 300
_seen = {}


def get_product_details(client, db, product_id):
    key = f"product:{product_id}:details"
    if key in _seen:
        client.get(key)  # "touch" the cache, but trust the local copy
        return _seen[key]
    record = db.get_product(product_id)
    if record is not None:
        client.set(key, json.dumps(record), ex=CACHE_TTL_SECONDS)
        _seen[key] = record
    return record


def update_product(client, db, product_id, changes):
    record = db.update_product(product_id, changes)
    client.delete(f"product:{product_id}:details")
    _seen.pop(f"product:{product_id}:details", None)
    return record
