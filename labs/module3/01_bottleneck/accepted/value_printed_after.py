"""Accepted: time.perf_counter(), and the value read is kept (printed outside the timed part)."""

import time


def measure_database_read(db, product_id):
    before = time.perf_counter()
    record = db.get_product(product_id)
    after = time.perf_counter()
    assert record is not None
    return (after - before) * 1000


def measure_cache_read(client, key):
    before = time.perf_counter()
    value = client.get(key)
    elapsed_ms = (time.perf_counter() - before) * 1000
    print(f"GET {key} -> {value!r} in {elapsed_ms:.3f} ms")
    return elapsed_ms


ANSWERS = dict(q1="b", q2="a", q3="b")
