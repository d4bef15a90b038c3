"""Known-wrong (a tester's answer): every hit resets the TTL (GETEX ... EX), so a popular
entry whose invalidation was missed never expires."""
import json

CACHE_TTL_SECONDS: int = 300


def cache_key(product_id: str) -> str:
    return f"product:{product_id}:details"


def get_product_details(client, db, product_id: str) -> dict | None:
    cached = client.getex(cache_key(product_id), ex=CACHE_TTL_SECONDS)
    if cached is not None:
        return json.loads(cached)
    record = db.get_product(product_id)
    if record is None:
        return None
    client.set(cache_key(product_id), json.dumps(record), ex=CACHE_TTL_SECONDS)
    return record


def update_product(client, db, product_id: str, changes: dict) -> dict:
    record = db.update_product(product_id, changes)
    client.delete(cache_key(product_id))
    return record
