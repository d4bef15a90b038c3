"""Known-wrong (a fresh tester's answer): the TTL given as px=CACHE_TTL_SECONDS, so a record lives
300 ms; the check on generated ids names the unit slip too.
"""

import json

CACHE_TTL_SECONDS = 300


def cache_key(p):
    return f"product:{p}:details"


def get_product_details(client, db, product_id):
    v = client.get(cache_key(product_id))
    if v is not None:
        return json.loads(v)
    rec = db.get_product(product_id)
    if rec is None:
        return None
    client.set(cache_key(product_id), json.dumps(rec), px=CACHE_TTL_SECONDS)
    return rec


def update_product(client, db, product_id, changes):
    rec = db.update_product(product_id, changes)
    client.delete(cache_key(product_id))
    return rec
