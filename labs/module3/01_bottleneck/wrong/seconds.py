"""Known-wrong: returns seconds, not milliseconds."""

import time


def measure_database_read(db, product_id):
    started = time.perf_counter()
    db.get_product(product_id)
    return time.perf_counter() - started


def measure_cache_read(client, key):
    started = time.perf_counter()
    client.get(key)
    return time.perf_counter() - started


ANSWERS = {"q1": "b", "q2": "a", "q3": "b"}
