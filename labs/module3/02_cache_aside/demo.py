"""Demo 02: cache-aside for product P123, as in the course: miss, hit, invalidate, miss."""

import json

CACHE_TTL_SECONDS = 300


def run(demo):
    product_id = "P123"
    key = f"product:{product_id}:details"
    demo.tidy(key)

    def read_product():
        cached = demo.client.get(key)
        if cached is not None:
            demo.show("cache hit", f"{key} answered from Valkey")
            return json.loads(cached)
        demo.show("cache miss", f"asking the database (about {demo.db.latency_seconds:g} s)")
        record = demo.db.get_product(product_id)
        if record is not None:
            demo.client.set(key, json.dumps(record), ex=CACHE_TTL_SECONDS)
        return record

    demo.heading("1. First read: nothing cached yet")
    with demo.timed("first read"):
        demo.show("record", read_product())
    demo.show("TTL now", demo.client.ttl(key))

    demo.heading("2. Second read: served by Valkey")
    with demo.timed("second read"):
        demo.show("record", read_product())

    demo.heading("3. The product changes: database first, then DEL the cached copy")
    with demo.timed("update"):
        demo.db.update_product(product_id, {"price": 9999.0})
        demo.client.delete(key)

    demo.heading("4. Next read: a miss again, now with the new price")
    with demo.timed("third read"):
        demo.show("record", read_product())
    demo.say(
        "A hit costs one round trip to Valkey; a miss costs that **plus** the database. "
        "Every hit is a query the database never sees."
    )
    demo.tidy(key)
