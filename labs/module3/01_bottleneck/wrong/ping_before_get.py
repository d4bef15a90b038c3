"""Known-wrong (a tester's answer): measure_cache_read times a PING before the GET."""

import time
def measure_database_read(db, product_id):
    t0 = time.perf_counter(); db.get_product(product_id); return (time.perf_counter() - t0) * 1000
def measure_cache_read(client, key):
    t0 = time.perf_counter(); client.ping(); client.get(key); return (time.perf_counter() - t0) * 1000
ANSWERS = {"q1": "b", "q2": "a", "q3": "b"}
