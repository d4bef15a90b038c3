"""Known-wrong: a batch size of its own; the batch_size argument is ignored."""

import json


def product_key(product_id: str) -> str:
    return f"product:{product_id}:details"


BATCH = 1000


def load_products(client, products, batch_size=1000):
    items = list(products.items())
    for start in range(0, len(items), BATCH):
        pipe = client.pipeline(transaction=False)
        for product_id, record in items[start : start + BATCH]:
            pipe.set(product_key(product_id), json.dumps(record))
        pipe.execute()
    return len(items)


def fetch_products(client, product_ids: list[str]) -> list[dict | None]:
    """The records of `product_ids`, in that order, in one round trip."""
    values = client.mget([product_key(product_id) for product_id in product_ids])
    return [json.loads(value) if value is not None else None for value in values]
