"""Demo 06: the same bulk load one by one, pipelined, in MULTI/EXEC and with MSET, measured in
one run; then the RTT arithmetic with this machine's measured round trip."""

import json
import statistics
import time

BATCH = 1000


def run(demo):
    client = demo.client
    count = 1000 if demo.quick else 10_000
    record = json.dumps({"name": "Bulk item", "price": 1.0})
    keys = [f"demo:pipe:{i:05d}" for i in range(count)]

    demo.heading("1. This machine's round trip")
    rtts = []
    for _ in range(200):
        started = time.perf_counter()
        client.ping()
        rtts.append(time.perf_counter() - started)
    rtt = statistics.median(rtts)
    demo.show("median PING round trip", f"{rtt * 1e6:.0f} µs")

    def one_by_one():
        for name in keys:
            client.set(name, record)

    def pipelined(transaction):
        for start in range(0, count, BATCH):
            pipe = client.pipeline(transaction=transaction)
            for name in keys[start : start + BATCH]:
                pipe.set(name, record)
            pipe.execute()

    def mset():
        for start in range(0, count, BATCH):
            client.mset({name: record for name in keys[start : start + BATCH]})

    methods = [
        ("one by one", one_by_one),
        ("pipeline, no transaction", lambda: pipelined(False)),
        ("pipeline with MULTI/EXEC", lambda: pipelined(True)),
        ("MSET batches", mset),
    ]
    demo.heading(f"2. {count:,} SETs, four ways, in this run")
    rows, seconds = [], {}
    for label, method in methods:
        demo.tidy(*keys)
        calls_before = len(client.call_log)
        started = time.perf_counter()
        method()
        spent = time.perf_counter() - started
        round_trips = len(client.call_log) - calls_before
        seconds[label] = spent
        rows.append([label, f"{round_trips:,}", f"{spent * 1000:.0f} ms", f"{count / spent:,.0f}"])
        demo.show(label, f"{spent * 1000:.0f} ms")
    base = seconds["one by one"]
    for row, (label, _) in zip(rows, methods, strict=True):
        row.append(f"{base / seconds[label]:.1f}x")
    demo.table(
        "Bulk load, measured",
        ["method", "round trips", "wall time", "SETs/s", "speed-up"],
        rows,
    )
    stats = client.info("commandstats")
    demo.show(
        "MULTI / EXEC calls so far (valkey-py's pipeline() default is transaction=True)",
        f"{stats.get('cmdstat_multi', {}).get('calls', 0)} / "
        f"{stats.get('cmdstat_exec', {}).get('calls', 0)}",
    )

    demo.heading("3. The arithmetic")
    waiting = count * rtt
    demo.say(
        f"One by one, {count:,} commands wait for {count:,} round trips: {count:,} × "
        f"{rtt * 1e6:.0f} µs ≈ **{waiting * 1000:.0f} ms** of network time (measured in total: "
        f"{base * 1000:.0f} ms). Pipelined in batches of {BATCH:,}: {count // BATCH} round trips "
        f"≈ {count // BATCH * rtt * 1000:.2f} ms of waiting."
    )
    demo.say(
        f"Over a network with a 1 ms round trip, one by one would wait about **{count:,} ms**, "
        f"pipelined about **{count // BATCH} ms**: the gap grows with the RTT."
    )

    demo.heading("4. MULTI/EXEC does not roll back")
    demo.tidy("demo:pipe:counter", "demo:pipe:name")
    tx = client.pipeline(transaction=True)
    tx.set("demo:pipe:name", "widget")
    tx.incr("demo:pipe:name")  # fails: not a number
    replies = tx.execute(raise_on_error=False)
    demo.show("replies", [r if not isinstance(r, Exception) else f"error: {r}" for r in replies])
    demo.show("the SET stayed anyway", client.get("demo:pipe:name"))
    demo.tidy(*keys, "demo:pipe:name")
