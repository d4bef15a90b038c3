"""Known-wrong (a tester's answer): measure_cache_read times a TTL and an EXISTS beside the GET."""

import time
def measure_database_read(db, product_id):
    t0 = time.perf_counter(); db.get_product(product_id); t1 = time.perf_counter(); return (t1 - t0) * 1000
def measure_cache_read(client, key):
    t0 = time.perf_counter(); client.get(key); client.ttl(key); client.exists(key); t1 = time.perf_counter(); return (t1 - t0) * 1000
ANSWERS = {"q1": "b", "q2": "a", "q3": "b"}
