"""Demo 07: lazyfree settings read from the server; DEL (lazy-user-del off) against UNLINK on
a big hash while a concurrent client PINGs; the 64-element threshold; FLUSHDB SYNC/ASYNC."""

import time
from pathlib import Path

import valkey

from valkey_workshop.demo import Picture
from valkey_workshop.pyfile import load_file_as_module

probe = load_file_as_module(Path(__file__).with_name("stall_probe.py"), "workshop_stall_probe")

KEY = "workshop:demo:lazyfree:big"
FLUSH_DB = 9


def run(demo):
    client = demo.client
    settings = [*probe.LAZYFREE_SETTINGS, "replica-lazy-flush"]
    saved = {name: client.config_get(name)[name] for name in settings}
    fields = 100_000 if demo.quick else 500_000
    try:
        demo.heading("1. This server's lazyfree settings")
        demo.table("CONFIG GET lazyfree*", ["setting", "value"], [[k, v] for k, v in saved.items()])
        demo.say(
            "All **yes**: the default since Valkey 8.0 (Redis 7 shipped them all off, which is "
            "why older guides say to turn them on). To see what they protect you from, we turn "
            "`lazyfree-lazy-user-del` off for a moment."
        )
        _del_against_unlink(demo, fields)
        _threshold(demo)
        _flush(demo, fields)
    finally:
        for name, value in saved.items():
            client.config_set(name, value)
        demo.tidy(KEY)
    demo.show("settings restored", {k: client.config_get(k)[k] for k in saved})


def _del_against_unlink(demo, fields):
    client = demo.client
    client.config_set("lazyfree-lazy-user-del", "no")
    demo.heading(f"2. A {fields:,}-field hash: DEL against UNLINK, while another client PINGs")
    probe.build_big_hash(demo.setup, KEY, fields)
    blocking = probe.measure(demo.url, lambda: client.delete(KEY))
    probe.build_big_hash(demo.setup, KEY, fields)
    before = int(client.info("memory")["lazyfreed_objects"])
    lazy = probe.measure(demo.url, lambda: client.unlink(KEY))
    time.sleep(0.3)  # the counter moves when the background thread has finished
    after = int(client.info("memory")["lazyfreed_objects"])
    demo.table(
        "Measured now",
        ["command", "the call took", "longest concurrent PING"],
        [
            [
                "DEL (lazy-user-del no)",
                f"{blocking.call_seconds * 1000:.1f} ms",
                f"{blocking.max_ping_seconds * 1000:.1f} ms",
            ],
            [
                "UNLINK",
                f"{lazy.call_seconds * 1000:.2f} ms",
                f"{lazy.max_ping_seconds * 1000:.1f} ms",
            ],
        ],
    )
    span = max(max((at + lat for at, lat in s.pings), default=0.2) for s in (blocking, lazy))
    scale = max(blocking.max_ping_seconds, lazy.max_ping_seconds)
    demo.pictures(
        "Concurrent PING latency over time (same scale)",
        [
            Picture("during DEL", probe.timeline(blocking, width=34, scale=scale, span=span)),
            Picture("during UNLINK", probe.timeline(lazy, width=34, scale=scale, span=span)),
        ],
        f"{span * 1000:.0f} ms from left to right; a bar's height is how long a PING waiting "
        f"at that moment waited (full height = {scale * 1000:.0f} ms)",
    )
    demo.show("lazyfreed_objects grew by (INFO memory)", after - before)
    demo.say(
        "The UNLINK's PINGs can still slow down a little: on a small machine the background "
        "thread competes for CPU. The main thread, though, never stops answering."
    )


def _threshold(demo):
    client = demo.client
    client.config_set("lazyfree-lazy-user-del", "yes")
    demo.heading("3. Small values are freed on the spot")
    rows = []
    for size, value in ((64, "x" * 100), (65, "x" * 100), (65, "v")):
        name = f"workshop:demo:lazyfree:hash{size}"
        client.hset(name, mapping={f"f{i}": value for i in range(size)})
        encoding = client.object("encoding", name)
        before = int(client.info("memory")["lazyfreed_objects"])
        client.delete(name)
        time.sleep(0.2)
        grew = int(client.info("memory")["lazyfreed_objects"]) - before
        rows.append([f"{size} fields of {len(value)} bytes", encoding, str(grew)])
    demo.table(
        "DEL with lazy-user-del yes",
        ["hash", "OBJECT ENCODING", "lazyfreed_objects grew by"],
        rows,
    )
    demo.say(
        "The cut-off counts elements of a hashtable; a small hash stored as one compact listpack "
        "is a single allocation, freed at once however many fields it has."
    )


def _flush(demo, fields):
    demo.heading(f"4. FLUSHDB SYNC against ASYNC (in database {FLUSH_DB})")
    other = valkey.Valkey.from_url(demo.url, db=FLUSH_DB, decode_responses=True)
    try:
        if other.dbsize():
            demo.say(f"Skipped: database {FLUSH_DB} holds data that is not ours.")
            return
        rows = []
        for mode in ("SYNC", "ASYNC"):
            probe.build_big_hash(other, KEY, fields)
            stall = probe.measure(
                demo.url, lambda mode=mode: other.execute_command("FLUSHDB", mode)
            )
            rows.append(
                [
                    f"FLUSHDB {mode}",
                    f"{stall.call_seconds * 1000:.2f} ms",
                    f"{stall.max_ping_seconds * 1000:.1f} ms",
                ]
            )
        demo.table("Measured now", ["command", "the call took", "longest concurrent PING"], rows)
    finally:
        other.close()
