"""Known-wrong (a tester's answer): cache_key lowercases the product id, so the record is cached
under a key no other service reads, and "P7" and "p7" share one entry."""

import json

CACHE_TTL_SECONDS: int = 300


def cache_key(product_id: str) -> str:
    """The Valkey key for a product's record."""
    return f"product:{product_id.lower()}:details"


def get_product_details(client, db, product_id: str) -> dict | None:
    """The product's record: from Valkey when cached, else from the database (then cached).

    None for a product the database does not know; nothing is cached for it.
    """
    key = cache_key(product_id)
    cached = client.get(key)
    if cached is not None:
        return json.loads(cached)
    record = db.get_product(product_id)
    if record is not None:
        # Value and expiry in one command: there is no moment without a TTL.
        client.set(key, json.dumps(record), ex=CACHE_TTL_SECONDS)
    return record


def update_product(client, db, product_id: str, changes: dict) -> dict:
    """Apply `changes` in the database and return the updated record (KeyError if unknown)."""
    record = db.update_product(product_id, changes)  # the database first...
    client.delete(cache_key(product_id))  # ...then drop the copy that is now stale
    return record
