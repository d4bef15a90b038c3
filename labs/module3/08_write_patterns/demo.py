"""Demo 08: write-through against write-back, as the caller sees them, when the database
catches up, and a flush that crashes half-way and loses nothing."""

import json
import time
from pathlib import Path

from valkey_workshop.labdb import catalogue_record
from valkey_workshop.pyfile import load_file_as_module

patterns = load_file_as_module(Path(__file__).with_name("solution.py"), "workshop_write_patterns")

PRODUCT = "P123"


class Crash(BaseException):
    """The flushing process dies (for the demo)."""


def run(demo):
    client, db = demo.client, demo.db
    key = patterns.cache_key(PRODUCT)
    demo.tidy(key, patterns.WRITE_QUEUE)
    client.set(key, json.dumps(catalogue_record(PRODUCT)), ex=300)
    latency = db.latency_seconds

    demo.heading(f"1. Write-through: the caller waits for the database ({latency:g} s)")
    started = time.perf_counter()
    patterns.write_through(client, db, PRODUCT, {"price": 111.0})
    through = time.perf_counter() - started
    demo.show("caller waited", f"{through * 1000:.0f} ms")
    demo.show("database now", db.get_product(PRODUCT)["price"])
    demo.show("cache now", json.loads(client.get(key))["price"])

    demo.heading("2. Write-back: the caller waits for Valkey only")
    started = time.perf_counter()
    for price in (222.0, 333.0):
        patterns.write_back(client, PRODUCT, {"price": price})
    back = (time.perf_counter() - started) / 2
    demo.show("caller waited (per write)", f"{back * 1000:.2f} ms")
    demo.show("cache now", json.loads(client.get(key))["price"])
    demo.show("database still has", db.get_product(PRODUCT)["price"])
    demo.show("queued on the stream", [fields for _, fields in client.xrange(patterns.WRITE_QUEUE)])

    demo.heading("3. The flush: the database catches up")
    # Timed alone: the demo's own reads of the database (slow too) are outside the measurement.
    flush_started = time.perf_counter()
    applied = patterns.flush_write_queue(client, db)
    flushed = time.perf_counter() - flush_started
    demo.show("changes applied", applied)
    demo.show(
        "the flush took",
        f"{flushed:.2f} s ({applied} database {'write' if applied == 1 else 'writes'} of "
        f"{latency:g} s each)",
    )
    demo.show("database now", db.get_product(PRODUCT)["price"])
    demo.say(
        "The database is up to date once a flush has run. In production its lag is the wait "
        "for the next flush plus the flush itself; the callers never waited for either."
    )
    demo.table(
        "As the caller sees it",
        ["pattern", "caller waited", "database up to date"],
        [
            ["write-through", f"{through * 1000:.0f} ms", "when the caller gets its answer"],
            ["write-back", f"{back * 1000:.2f} ms", f"after the next flush ({flushed:.2f} s)"],
        ],
    )

    demo.heading("4. A flush that dies half-way")
    for price in (444.0, 555.0):
        patterns.write_back(client, PRODUCT, {"price": price})
    calls = []

    def die_on_second(product_id, changes):
        calls.append(changes)
        if len(calls) == 2:
            raise Crash

    db.before_update = die_on_second
    try:
        patterns.flush_write_queue(client, db)
    except Crash:
        demo.say("The flushing process **died** during its second database write.")
    db.before_update = None
    pending = client.xpending(patterns.WRITE_QUEUE, patterns.GROUP)
    demo.show("XPENDING: delivered but not acknowledged", pending["pending"])
    demo.show("database has", db.get_product(PRODUCT)["price"])
    demo.show("the next flush applied", patterns.flush_write_queue(client, db))
    demo.show("database now", db.get_product(PRODUCT)["price"])
    demo.say(
        "Nothing was lost: the entry the crash interrupted was still **pending** in the "
        "consumer group, because it is acknowledged only after its database write."
    )
    demo.tidy(key, patterns.WRITE_QUEUE)
