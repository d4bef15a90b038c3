"""Accepted: MSET batches; one pipeline of GETs for fetching."""

import json


def product_key(product_id: str) -> str:
    return f"product:{product_id}:details"


def load_products(client, products, batch_size=1000):
    items = list(products.items())
    for start in range(0, len(items), batch_size):
        batch = items[start : start + batch_size]
        client.mset({product_key(pid): json.dumps(record) for pid, record in batch})
    return len(items)


def fetch_products(client, product_ids):
    pipe = client.pipeline(transaction=False)
    for product_id in product_ids:
        pipe.get(product_key(product_id))
    return [json.loads(v) if v is not None else None for v in pipe.execute()]
