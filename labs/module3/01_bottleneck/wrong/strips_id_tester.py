"""Known-wrong (a tester's answer): measure_database_read "cleans" the id with strip() first,
so an id with spaces at its ends is timed as a read of another product (or of none)."""

import time


def measure_database_read(db, product_id):
    cleaned = product_id.strip()
    started = time.perf_counter()
    db.get_product(cleaned)
    return (time.perf_counter() - started) * 1000


def measure_cache_read(client, key):
    started = time.perf_counter()
    client.get(key)
    return (time.perf_counter() - started) * 1000


ANSWERS = {"q1": "b", "q2": "a", "q3": "b"}
