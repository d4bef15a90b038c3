"""Step 06 · Pipelining

Store many products, and read many back, with as few round trips as possible.
A product is stored as JSON at product:{id}:details.

Check your work with:  workshop check module3 pipelining
"""

import json


def product_key(product_id: str) -> str:
    return f"product:{product_id}:details"


def load_products(client, products: dict[str, dict], batch_size: int = 1000) -> int:
    """Store every product (id -> record) as JSON; at most one round trip per `batch_size`
    products. Return how many were stored."""
    # TODO: a pipeline (transaction=False), executed once per batch.
    raise NotImplementedError


def fetch_products(client, product_ids: list[str]) -> list[dict | None]:
    """The records of `product_ids`, in that order (None for missing), in one round trip."""
    # TODO: one MGET (or one pipeline), then json.loads each value that is not None.
    raise NotImplementedError
