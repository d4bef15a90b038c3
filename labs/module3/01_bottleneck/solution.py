"""Step 01 · The bottleneck: reference solution."""

import time


def measure_database_read(db, product_id: str) -> float:
    """Read one product with db.get_product(product_id); return how long it took, in ms."""
    started = time.perf_counter()
    db.get_product(product_id)
    return (time.perf_counter() - started) * 1000


def measure_cache_read(client, key: str) -> float:
    """Read `key` once with client.get(key); return how long it took, in ms."""
    started = time.perf_counter()
    client.get(key)
    return (time.perf_counter() - started) * 1000


ANSWERS: dict[str, str] = {
    "q1": "b",  # the primary store does the slow work: disk, network, query execution
    "q2": "a",  # RAM and little work per command
    "q3": "b",  # beside the database; the application decides where to read
}
