"""Step 06 · Pipelining

Store many products, and read many back, with as few round trips as possible.
A product is stored as JSON at product:{id}:details.

Check your work with:  workshop check module3 pipelining
"""

import json


def product_key(product_id: str) -> str:
    return f"product:{product_id}:details"


def load_products(client, products: dict[str, dict], batch_size: int = 1000) -> int:
    """Store every product (id -> record) as JSON at product_key(id) and return how many
    were stored. Each round trip carries at most `batch_size` products, so the load takes
    ceil(len(products) / batch_size) round trips (none when there is nothing to store)."""
    # TODO: a pipeline (transaction=False), executed once per batch.
    raise NotImplementedError


def fetch_products(client, product_ids: list[str]) -> list[dict | None]:
    """The records of `product_ids`, in one round trip: result[i] belongs to product_ids[i]
    (None for a product that is not stored; an id asked twice is answered twice).
    No ids: return []."""
    # TODO: one MGET (or one pipeline), then json.loads each value that is not None.
    raise NotImplementedError
