"""Accepted: a fresh pipeline per slice of the items (a context manager); fetch through a
dict of the stored values, mapped back onto the ids asked."""

import json
from itertools import islice


def product_key(product_id: str) -> str:
    return f"product:{product_id}:details"


def load_products(client, products, batch_size=1000):
    items = iter(products.items())
    stored = 0
    while chunk := list(islice(items, batch_size)):
        with client.pipeline(transaction=False) as pipe:
            for product_id, record in chunk:
                pipe.set(product_key(product_id), json.dumps(record))
            stored += sum(1 for ok in pipe.execute() if ok)
    return stored


def fetch_products(client, product_ids):
    if not product_ids:
        return []
    unique = list(dict.fromkeys(product_ids))
    values = dict(zip(unique, client.mget([product_key(pid) for pid in unique]), strict=True))
    return [json.loads(values[pid]) if values[pid] is not None else None for pid in product_ids]
