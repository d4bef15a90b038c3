"""Demo 01: one read from the slow database against one read from Valkey."""

import json
import statistics


def run(demo):
    product_id = "P123"
    key = f"product:{product_id}:details"
    demo.say(
        f"The workshop's product database answers in about **{demo.db.latency_seconds:g} s**, "
        "like a busy primary store. Let us read one product from it."
    )
    with demo.timed(f"db.get_product({product_id!r})"):
        record = demo.db.get_product(product_id)
    demo.show("record", record)

    demo.say("Now we put the same record in Valkey and read it back from there.")
    demo.client.set(key, json.dumps(record), ex=60)
    with demo.timed(f"GET {key}"):
        cached = demo.client.get(key)
    demo.show("cached JSON", cached)

    demo.say("One read proves little: here are 200 more GETs, summarised.")
    for _ in range(200):
        demo.client.get(key)
    round_trips = [r.latency_us for r in demo.client.call_log.records()[-200:]]
    median_us = statistics.median(round_trips)
    ratio = demo.db.latency_seconds * 1_000_000 / median_us
    demo.table(
        "One product read",
        ["source", "time", "reads per second (one client)"],
        [
            [
                "database",
                f"{demo.db.latency_seconds * 1000:.0f} ms",
                f"{1 / demo.db.latency_seconds:.1f}",
            ],
            ["Valkey (median)", f"{median_us:.0f} µs", f"{1_000_000 / median_us:,.0f}"],
        ],
    )
    demo.say(f"Valkey answered about **{ratio:,.0f} times** faster than the database here.")
    demo.tidy(key)
