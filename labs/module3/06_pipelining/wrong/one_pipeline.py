"""Known-wrong: one pipeline for everything; batch_size is ignored."""

import json


def product_key(product_id: str) -> str:
    return f"product:{product_id}:details"


def load_products(client, products, batch_size=1000):
    pipe = client.pipeline(transaction=False)
    for product_id, record in products.items():
        pipe.set(product_key(product_id), json.dumps(record))
    pipe.execute()  # one round trip, however many products
    return len(products)


def fetch_products(client, product_ids: list[str]) -> list[dict | None]:
    """The records of `product_ids`, in that order, in one round trip."""
    values = client.mget([product_key(product_id) for product_id in product_ids])
    return [json.loads(value) if value is not None else None for value in values]
