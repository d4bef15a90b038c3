"""Known-wrong (a tester's answer): beyond 2000 ids fetch_products fetches one id per round
trip; the check stops it early and counts the round trips (no time limit reached)."""

import json
def product_key(product_id): return f"product:{product_id}:details"
def load_products(client, products, batch_size=1000):
    items = list(products.items())
    stored = 0
    for start in range(0, len(items), batch_size):
        pipe = client.pipeline(transaction=False)
        for pid, rec in items[start:start + batch_size]:
            pipe.set(product_key(pid), json.dumps(rec))
        pipe.execute()
        stored += len(items[start:start + batch_size])
    return stored
def fetch_products(client, product_ids):
    if not product_ids:
        return []
    if len(product_ids) > 2000:
        return [fetch_products(client, [p])[0] for p in product_ids]
    raw = client.mget([product_key(p) for p in product_ids])
    return [None if v is None else json.loads(v) for v in raw]
