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

    stats_before = demo.setup.info("stats")
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

    _hit_ratio(demo, stats_before)

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


def _hit_ratio(demo, before):
    """The server's own hit and miss counters over the three reads above."""
    after = demo.setup.info("stats")
    hits = int(after["keyspace_hits"]) - int(before["keyspace_hits"])
    misses = int(after["keyspace_misses"]) - int(before["keyspace_misses"])
    demo.show("keyspace_hits / keyspace_misses since section 1 (INFO stats)", f"{hits} / {misses}")
    if hits + misses:
        demo.say(
            f"The server counted {hits} {'hit' if hits == 1 else 'hits'} and {misses} "
            f"{'miss' if misses == 1 else 'misses'}, a hit ratio of "
            f"{hits / (hits + misses):.0%}. Every command that reads a key counts, not only "
            "GET: the TTL shown in section 1 was a hit too. On a real cache, watch this ratio "
            "over time, with `expired_keys` and `evicted_keys` beside it."
        )
