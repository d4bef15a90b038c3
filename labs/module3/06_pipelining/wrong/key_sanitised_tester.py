"""Known-wrong (a tester's answer): load_products replaces spaces and colons in the ids
of its keys, so fetch_products (and any reader) finds nothing there."""
import json, itertools
def product_key(pid): return f"product:{pid}:details"
def load_products(client, products, batch_size=1000):
    items = list(products.items()); n = 0
    for i in range(0, len(items), batch_size):
        p = client.pipeline(transaction=False)
        for pid, rec in items[i:i + batch_size]:
            p.set(product_key(pid.replace(" ", "_").replace(":", "_")), json.dumps(rec)); n += 1
        p.execute()
    return n
def fetch_products(client, product_ids):
    if not product_ids: return []
    return [None if v is None else json.loads(v) for v in client.mget([product_key(i) for i in product_ids])]
