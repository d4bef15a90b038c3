"""Accepted (a fresh tester's answer): a pipeline executed every batch_size products; fetch through
a registered Lua script that MGETs every key: one round trip once the script is loaded.
"""

import json


def product_key(pid):
    return f"product:{pid}:details"


def load_products(client, products, batch_size=1000):
    pipe = client.pipeline(transaction=False)
    for i, (pid, rec) in enumerate(products.items(), start=1):
        pipe.set(product_key(pid), json.dumps(rec))
        if i % batch_size == 0:
            pipe.execute()
    if len(pipe):
        pipe.execute()
    return len(products)


def fetch_products(client, product_ids):
    if not product_ids:
        return []
    script = client.register_script("return redis.call('MGET', unpack(KEYS))")
    return [
        None if v is None else json.loads(v)
        for v in script(keys=[product_key(p) for p in product_ids])
    ]
