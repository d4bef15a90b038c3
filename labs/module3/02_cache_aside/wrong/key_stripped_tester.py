"""Known-wrong (a tester's answer): cache_key strips the id's surrounding whitespace, so " P1 "
and "P1", two products to the database, share one cache entry."""

import json

CACHE_TTL_SECONDS: int = 300


def cache_key(product_id: str) -> str:
    """The Valkey key for a product's record."""
    return f"product:{product_id.strip()}:details"


def get_product_details(client, db, product_id: str) -> dict | None:
    """The product's record: from Valkey when cached, else from the database (then cached)."""
    cached = client.get(cache_key(product_id))
    if cached is not None:
        return json.loads(cached)
    record = db.get_product(product_id)
    if record is None:
        return None
    client.set(cache_key(product_id), json.dumps(record), ex=CACHE_TTL_SECONDS)
    return record


def update_product(client, db, product_id: str, changes: dict) -> dict:
    """Write the change to the database, then drop the cached entry."""
    record = db.update_product(product_id, changes)
    client.delete(cache_key(product_id))
    return record
