"""Known-wrong: fills the cache but reads the database every time."""

import json

CACHE_TTL_SECONDS = 300


def get_product_details(client, db, product_id):
    key = f"product:{product_id}:details"
    record = db.get_product(product_id)
    if record is not None:
        client.set(key, json.dumps(record), ex=CACHE_TTL_SECONDS)
    return record


def update_product(client, db, product_id, changes):
    record = db.update_product(product_id, changes)
    client.delete(f"product:{product_id}:details")
    return record
