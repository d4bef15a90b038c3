"""Known-wrong (a tester's answer): load_products builds each key from the record's own "id"
field instead of the dict's key, and so fails on a record that does not repeat its id."""

import json


def product_key(product_id: str) -> str:
    """The Valkey key for a product's record."""
    return f"product:{product_id}:details"


def load_products(client, products, batch_size=1000):
    """MSET batches, keyed by record["id"]."""
    records = list(products.values())
    for start in range(0, len(records), batch_size):
        batch = records[start : start + batch_size]
        client.mset({product_key(record["id"]): json.dumps(record) for record in batch})
    return len(records)


def fetch_products(client, product_ids):
    """One MGET."""
    if not product_ids:
        return []
    values = client.mget([product_key(product_id) for product_id in product_ids])
    return [None if value is None else json.loads(value) for value in values]
