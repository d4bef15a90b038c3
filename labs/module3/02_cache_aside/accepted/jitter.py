"""Accepted: a TTL with random jitter below CACHE_TTL_SECONDS, and the walrus operator."""

import json
import random

CACHE_TTL_SECONDS = 300


def get_product_details(client, db, product_id):
    key = f"product:{product_id}:details"
    if (cached := client.get(key)) is not None:
        return json.loads(cached)
    if (record := db.get_product(product_id)) is None:
        return None
    # Entries cached together should not all expire together.
    client.set(key, json.dumps(record), ex=CACHE_TTL_SECONDS - random.randint(0, 30))  # noqa: S311 - jitter, not crypto
    return record


def update_product(client, db, product_id, changes):
    updated = db.update_product(product_id, changes)
    client.unlink(f"product:{product_id}:details")
    return updated
