"""Known-wrong: caches the record as a hash (HSET), not as one JSON string."""

CACHE_TTL_SECONDS = 300


def get_product_details(client, db, product_id):
    key = f"product:{product_id}:details"
    cached = client.hgetall(key)
    if cached:
        return {"id": cached["id"], "name": cached["name"], "price": float(cached["price"])}
    record = db.get_product(product_id)
    if record is not None:
        with client.pipeline() as tx:
            tx.hset(key, mapping=record)
            tx.expire(key, CACHE_TTL_SECONDS)
            tx.execute()
    return record


def update_product(client, db, product_id, changes):
    record = db.update_product(product_id, changes)
    client.delete(f"product:{product_id}:details")
    return record
