"""Demo 02: cache-aside for P123: miss, hit, invalidate, miss; then the race that remains."""

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
        "A hit costs one round trip to Valkey. A miss costs two (the GET that found nothing "
        "and the SET that fills the entry) **plus** the database read between them. Every "
        "hit is a query the database never sees."
    )

    demo.heading("5. The race that remains: a slow reader stores an old record after the DEL")
    demo.client.delete(key)
    demo.show("reader", f"GET {key} -> {demo.client.get(key)!r}: a miss, so it asks the database")
    with demo.timed("reader: db.get_product (the old record)"):
        old = demo.db.get_product(product_id)
    with demo.timed("writer: db.update_product, then DEL"):
        new = demo.db.update_product(product_id, {"price": 111.0})
        demo.client.delete(key)
    demo.client.set(key, json.dumps(old), ex=CACHE_TTL_SECONDS)
    demo.show("reader, late", f"SET {key} with the price it read: {old['price']}")
    cached = json.loads(demo.client.get(key))
    demo.table(
        "After the write",
        ["where", "price"],
        [["database", new["price"]], [f"cache (TTL {demo.client.ttl(key)} s)", cached["price"]]],
    )
    demo.say(
        "Database first, then DEL, made this rare, not impossible: the old price stays until "
        "the TTL ends. Bound it with a short TTL; close it with versioned values or leases."
    )
    demo.tidy(key)
