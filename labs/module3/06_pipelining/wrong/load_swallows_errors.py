"""Known-wrong: load_products skips a batch whose round trip fails
and reports the products as stored."""

import json


def product_key(product_id: str) -> str:
    return f"product:{product_id}:details"


def load_products(client, products: dict[str, dict], batch_size: int = 1000) -> int:
    """Store every product as JSON, one round trip per batch."""
    pipe = client.pipeline(transaction=False)  # batching, not atomicity
    queued = 0
    for product_id, record in products.items():
        pipe.set(product_key(product_id), json.dumps(record))
        queued += 1
        if queued % batch_size == 0:
            try:
                pipe.execute()
            except Exception:  # skip a failed batch
                pipe.reset()
    pipe.execute()  # the last, partial batch (nothing is sent if it is empty)
    return queued


def fetch_products(client, product_ids: list[str]) -> list[dict | None]:
    """The records of `product_ids`, in that order, in one round trip."""
    values = client.mget([product_key(product_id) for product_id in product_ids])
    return [json.loads(value) if value is not None else None for value in values]
