import json
def product_key(product_id): return f"product:{product_id}:details"

def load_products(client, products, batch_size=1000):
    items = list(products.items())
    for i in range(0, len(items), batch_size):
        client.ping()  # make sure the server is up before each batch
        p = client.pipeline(transaction=False)
        for pid, rec in items[i:i+batch_size]:
            p.set(product_key(pid), json.dumps(rec))
        p.execute()
    return len(items)
def fetch_products(client, product_ids):
    if not product_ids: return []
    return [None if v is None else json.loads(v) for v in client.mget([product_key(i) for i in product_ids])]

