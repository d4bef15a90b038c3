"""Known-wrong: the update gives the entry a short expiry and waits for it to run out before
returning. The caller then reads fresh data, but every other reader gets the old record until
the expiry: the check judges the commands sent, not the entry that is gone by then."""

import json
import time

CACHE_TTL_SECONDS = 300


def get_product_details(client, db, product_id):
    key = f"product:{product_id}:details"
    cached = client.get(key)
    if cached is not None:
        return json.loads(cached)
    record = db.get_product(product_id)
    if record is not None:
        client.set(key, json.dumps(record), ex=CACHE_TTL_SECONDS)
    return record


def update_product(client, db, product_id, changes):
    record = db.update_product(product_id, changes)
    client.pexpire(f"product:{product_id}:details", 100)
    time.sleep(0.15)  # until the old entry has run out
    return record
