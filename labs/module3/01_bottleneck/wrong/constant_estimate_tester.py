"""Known-wrong (a tester's answer): reads the database but returns a constant 50.0 ms
instead of timing the read."""
import time
ANSWERS = {"q1": "b", "q2": "a", "q3": "b"}

def measure_database_read(db, product_id):
    db.get_product(product_id); return 50.0
def measure_cache_read(client, key):
    t = time.perf_counter(); client.get(key); return (time.perf_counter() - t) * 1000
