"""Demo 08: write-through against write-back, as the caller sees them, when the database
catches up, a flush that crashes half-way and loses nothing, and trimming the queue: MAXLEN
against MINID."""

import json
import time
from pathlib import Path

from valkey_workshop.labdb import catalogue_record
from valkey_workshop.pyfile import load_file_as_module

patterns = load_file_as_module(Path(__file__).with_name("solution.py"), "workshop_write_patterns")

PRODUCT = "P123"
TRIM_QUEUE = "workshop:demo:trim-queue"


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
    trimming(demo)


def _queue_with_a_crashed_reader(client):
    """Five changes: two applied and acknowledged, one read but not acknowledged (its flush
    died), two not yet delivered."""
    client.delete(TRIM_QUEUE)
    ids = [client.xadd(TRIM_QUEUE, {"n": str(n)}) for n in range(5)]
    client.xgroup_create(TRIM_QUEUE, patterns.GROUP, id="0")
    client.xreadgroup(patterns.GROUP, patterns.CONSUMER, {TRIM_QUEUE: ">"}, count=3)
    client.xack(TRIM_QUEUE, patterns.GROUP, ids[0], ids[1])
    return ids


def _still_to_apply(client):
    """The changes a flush could still apply: pending ones, then the undelivered ones."""
    claimed = client.xautoclaim(TRIM_QUEUE, patterns.GROUP, patterns.CONSUMER, 0, "0-0")
    pending = [fields["n"] for _, fields in claimed[1]]
    reply = client.xreadgroup(patterns.GROUP, patterns.CONSUMER, {TRIM_QUEUE: ">"})
    new = [fields["n"] for _, fields in reply[0][1]] if reply else []
    return pending + new, len(claimed[2]) if len(claimed) > 2 else 0


def trimming(demo):
    client = demo.client
    demo.heading("5. Trimming the queue: MAXLEN against MINID")
    demo.say(
        "Five changes queued: 0 and 1 applied and acknowledged, 2 read by a flush that died "
        "(pending), 3 and 4 not yet delivered. Changes 2, 3 and 4 must still reach the database."
    )
    _queue_with_a_crashed_reader(client)
    client.xtrim(TRIM_QUEUE, maxlen=1, approximate=False)
    left_maxlen, deleted = _still_to_apply(client)
    demo.show("XTRIM MAXLEN 1: changes a flush can still apply", left_maxlen)
    demo.show("pending ids XAUTOCLAIM reports as deleted", deleted)
    _queue_with_a_crashed_reader(client)
    oldest = client.xpending(TRIM_QUEUE, patterns.GROUP)["min"]
    removed = client.xtrim(TRIM_QUEUE, minid=oldest, approximate=False)
    demo.show(f"XTRIM MINID {oldest} (the oldest pending id): entries removed", removed)
    left_minid, _ = _still_to_apply(client)
    demo.show("XTRIM MINID: changes a flush can still apply", left_minid)
    lost = sorted({"2", "3", "4"} - set(left_maxlen))
    demo.say(
        f"MAXLEN kept the newest entry and deleted the rest, whatever their state: "
        f"{', '.join(lost) if lost else 'nothing'} never {'reaches' if len(lost) == 1 else 'reach'}"
        " the database. MINID at the oldest pending id removed only the "
        f"{removed} applied {'change' if removed == 1 else 'changes'}. Trim a write queue with "
        "MINID at or below the oldest pending or undelivered id, never with MAXLEN."
        if lost
        else "MAXLEN lost nothing this time; it would once the queue is longer than its bound."
    )
    demo.tidy(TRIM_QUEUE)
