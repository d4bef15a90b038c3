"""Known-wrong: returns how many round trips were made, not how many products were stored."""

import json


def product_key(product_id: str) -> str:
    return f"product:{product_id}:details"


def load_products(client, products, batch_size=1000):
    pipe = client.pipeline(transaction=False)
    batches = 0
    for number, (product_id, record) in enumerate(products.items(), start=1):
        pipe.set(product_key(product_id), json.dumps(record))
        if number % batch_size == 0:
            pipe.execute()
            batches += 1
    if len(pipe):
        pipe.execute()
        batches += 1
    return batches


def fetch_products(client, product_ids: list[str]) -> list[dict | None]:
    """The records of `product_ids`, in that order, in one round trip."""
    values = client.mget([product_key(product_id) for product_id in product_ids])
    return [json.loads(value) if value is not None else None for value in values]
