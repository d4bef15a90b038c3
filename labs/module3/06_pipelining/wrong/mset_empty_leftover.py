"""Known-wrong: MSET batches, then an MSET of the leftovers even when there are none."""

import json


def product_key(product_id: str) -> str:
    return f"product:{product_id}:details"


def load_products(client, products, batch_size=1000):
    batch = {}
    for product_id, record in products.items():
        batch[product_key(product_id)] = json.dumps(record)
        if len(batch) == batch_size:
            client.mset(batch)
            batch = {}
    client.mset(batch)  # an empty MSET is an error
    return len(products)


def fetch_products(client, product_ids: list[str]) -> list[dict | None]:
    """The records of `product_ids`, in that order, in one round trip."""
    values = client.mget([product_key(product_id) for product_id in product_ids])
    return [json.loads(value) if value is not None else None for value in values]
