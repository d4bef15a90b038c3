"""Known-wrong: waits 40 ms inside the timer, after the Valkey read."""

import time


def measure_database_read(db, product_id):
    started = time.perf_counter()
    db.get_product(product_id)
    return (time.perf_counter() - started) * 1000


def measure_cache_read(client, key):
    started = time.perf_counter()
    client.get(key)
    time.sleep(0.04)
    return (time.perf_counter() - started) * 1000


ANSWERS = {"q1": "b", "q2": "a", "q3": "b"}
