"""Demo 07: lazyfree settings read from the server; DEL (lazy-user-del off) against UNLINK on
a big hash while a concurrent client PINGs; the 64-element threshold; FLUSHDB SYNC/ASYNC."""

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
    # Headless (verify) nobody watches the stall: a smaller hash and shorter probe windows
    # prove the same code paths in a fraction of the time.
    fields = 30_000 if demo.quick else 500_000
    try:
        demo.heading("1. This server's lazyfree settings")
        demo.table("CONFIG GET lazyfree*", ["setting", "value"], [[k, v] for k, v in saved.items()])
        demo.say(_what_the_settings_say(saved, demo.setup.info("server")))
        windows = {"settle": 0.02, "after": 0.03} if demo.quick else {}
        _del_against_unlink(demo, fields, windows)
        _threshold(demo)
        _flush(demo, fields, windows)
    finally:
        for name, value in saved.items():
            client.config_set(name, value)
        demo.tidy(KEY)
    demo.show("settings restored", {k: client.config_get(k)[k] for k in saved})


def _what_the_settings_say(settings, server_info):
    """Narration computed from this server's own values: the yes and no it reported."""
    on = [name for name, value in settings.items() if value == "yes"]
    off = [name for name, value in settings.items() if value != "yes"]
    server = (
        f"Valkey {server_info['valkey_version']}"
        if "valkey_version" in server_info
        else f"Redis {server_info.get('redis_version', '?')}"
    )
    if not off:
        summary = (
            f"All **yes** on this server ({server}): Valkey has shipped them on since 8.0. "
            "Redis 7 shipped them off, which is why older guides say to turn them on."
        )
    elif not on:
        summary = (
            f"All **no** on this server ({server}): freeing runs on the main thread unless the "
            "command asks otherwise (UNLINK, FLUSHALL ASYNC). Valkey 8.0 and later ship them on."
        )
    else:
        summary = (
            f"On this server ({server}) {', '.join(on)} {'is' if len(on) == 1 else 'are'} "
            f"**yes** and {', '.join(off)} {'is' if len(off) == 1 else 'are'} **no** "
            "(someone changed the defaults, or this server predates Valkey 8.0)."
        )
    return (
        f"{summary} To see what lazy freeing protects you from, we turn "
        "`lazyfree-lazy-user-del` off for a moment."
    )


def _del_against_unlink(demo, fields, windows):
    client = demo.client
    client.config_set("lazyfree-lazy-user-del", "no")
    demo.heading(f"2. A {fields:,}-field hash: DEL against UNLINK, while another client PINGs")
    # The server's own view beside the probe's: LATENCY LATEST gives, per event class, the
    # latest and the largest latency above latency-monitor-threshold (off by default: set for
    # the demo, then put back).
    with probe.ServerLatencyMonitor(demo.setup, threshold_ms=5) as monitor:
        events = {}
        probe.build_big_hash(demo.setup, KEY, fields)
        blocking = probe.measure(
            demo.url,
            lambda: client.delete(KEY),
            on_start=monitor.reset,
            on_end=lambda: events.update(DEL=monitor.events()),
            **windows,
        )
        probe.build_big_hash(demo.setup, KEY, fields)
        before = int(client.info("memory")["lazyfreed_objects"])
        lazy = probe.measure(
            demo.url,
            lambda: client.unlink(KEY),
            on_start=monitor.reset,
            on_end=lambda: events.update(UNLINK=monitor.events()),
            **windows,
        )
        del_events, unlink_events = events["DEL"], events["UNLINK"]
        # The counter moves when the background thread has finished: poll it.
        probe.wait_for(lambda: int(client.info("memory")["lazyfreed_objects"]) > before)
        after = int(client.info("memory")["lazyfreed_objects"])
        threshold = monitor.threshold_ms

    def server_event(events):
        if "command" not in events:
            return f"none over {threshold} ms"
        return f"command: {events['command'][1]} ms"

    demo.table(
        "Measured now: what the client saw, and what the server says",
        ["command", "call took", "longest PING", "main thread busy", "LATENCY LATEST"],
        [
            [
                "DEL (lazy-user-del no)",
                f"{blocking.call_seconds * 1000:.1f} ms",
                f"{blocking.max_ping_seconds * 1000:.1f} ms",
                f"{blocking.server_seconds * 1000:.2f} ms",
                server_event(del_events),
            ],
            [
                "UNLINK",
                f"{lazy.call_seconds * 1000:.2f} ms",
                f"{lazy.max_ping_seconds * 1000:.1f} ms",
                f"{lazy.server_seconds * 1000:.2f} ms",
                server_event(unlink_events),
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
        'Two views of the same moment. "Main thread busy" comes from INFO commandstats and '
        "LATENCY LATEST from the server's latency monitor: both say how long the server itself "
        "could serve nobody else. The PING probe is a thread in this very process, so it "
        "also waits for our own Python and, on a small machine, for the CPU the background "
        "thread is using: its UNLINK numbers overstate the disturbance. Trust the server's "
        "view; the probe shows what a client next door might feel."
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
        before = probe.lazy_handoffs(client)
        client.delete(name)
        # A value handed to the background thread is counted (pending) before DEL replies:
        # no need to wait for the thread to see which ones went.
        handed = probe.lazy_handoffs(client) - before
        rows.append([f"{size} fields of {len(value)} bytes", encoding, str(handed)])
    demo.table(
        "DEL with lazy-user-del yes",
        ["hash", "OBJECT ENCODING", "handed to the background thread"],
        rows,
    )
    demo.say(
        "Counted from INFO memory: `lazyfree_pending_objects` (waiting for the thread) plus "
        "`lazyfreed_objects` (freed by it)."
    )
    demo.say(
        "The cut-off counts elements of a hashtable; a small hash stored as one compact listpack "
        "is a single allocation, freed at once however many fields it has."
    )


def _flush(demo, fields, windows):
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
                demo.url, lambda mode=mode: other.execute_command("FLUSHDB", mode), **windows
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
