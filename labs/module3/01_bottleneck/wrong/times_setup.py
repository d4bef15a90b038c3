"""Known-wrong: reads the database twice inside the timed part."""

import time


def measure_database_read(db, product_id):
    started = time.perf_counter()
    if db.get_product(product_id) is not None:
        db.get_product(product_id)
    return (time.perf_counter() - started) * 1000


def measure_cache_read(client, key):
    started = time.perf_counter()
    client.get(key)
    return (time.perf_counter() - started) * 1000


ANSWERS = {"q1": "b", "q2": "a", "q3": "b"}
