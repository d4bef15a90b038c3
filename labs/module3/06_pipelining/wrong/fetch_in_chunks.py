"""Known-wrong: fetches in MGETs of 500 keys, so a long id list takes several round trips
(the reasoning: "keep each command small", which the load's batch_size asks, not the fetch)."""

import json


def product_key(product_id):
    return f"product:{product_id}:details"


def load_products(client, products, batch_size=1000):
    pipe = client.pipeline(transaction=False)
    queued = 0
    for product_id, record in products.items():
        pipe.set(product_key(product_id), json.dumps(record))
        queued += 1
        if queued % batch_size == 0:
            pipe.execute()
    pipe.execute()
    return queued


def fetch_products(client, product_ids):
    records = []
    for start in range(0, len(product_ids), 500):
        chunk = product_ids[start : start + 500]
        values = client.mget([product_key(product_id) for product_id in chunk])
        records += [json.loads(value) if value is not None else None for value in values]
    return records
