"""Accepted: executes when the pipeline holds batch_size commands (len(pipe)), and once more
for the rest only when something is left; fetch through MGET with the keys spread."""

import json


def product_key(product_id: str) -> str:
    return f"product:{product_id}:details"


def load_products(client, products, batch_size=1000):
    pipe = client.pipeline(transaction=False)
    for product_id, record in products.items():
        pipe.set(product_key(product_id), json.dumps(record))
        if len(pipe) >= batch_size:
            pipe.execute()
    if len(pipe):
        pipe.execute()
    return len(products)


def fetch_products(client, product_ids):
    if not product_ids:
        return []
    keys = [product_key(pid) for pid in product_ids]
    return [None if raw is None else json.loads(raw) for raw in client.mget(*keys)]
