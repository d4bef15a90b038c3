"""Accepted: raw commands through execute_command, UNLINK to invalidate."""

import json

CACHE_TTL_SECONDS = 300


def get_product_details(client, db, product_id):
    key = "product:" + product_id + ":details"
    cached = client.execute_command("GET", key)
    if cached is None:
        record = db.get_product(product_id)
        if record is None:
            return None
        client.execute_command("SET", key, json.dumps(record), "EX", CACHE_TTL_SECONDS)
        return record
    return json.loads(cached)


def update_product(client, db, product_id, changes):
    record = db.update_product(product_id, changes)
    client.execute_command("UNLINK", "product:" + product_id + ":details")
    return record
