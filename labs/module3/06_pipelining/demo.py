"""Demo 06: the same bulk load one by one, pipelined, in MULTI/EXEC and with MSET, measured in
one run; then the RTT arithmetic with the measured round trip. With a simulated network
(`workshop demo --rtt 1ms`) the load runs both through it and over loopback, side by side."""

import json
import statistics
import time

BATCH = 1000
METHODS = ("one by one", "pipeline, no transaction", "pipeline with MULTI/EXEC", "MSET batches")


def median_rtt(client, pings=100):
    rtts = []
    for _ in range(pings):
        started = time.perf_counter()
        client.ping()
        rtts.append(time.perf_counter() - started)
    return statistics.median(rtts)


def measure(demo, client, count):
    """{method: (round trips, seconds)} for `count` SETs on `client`."""
    record = json.dumps({"name": "Bulk item", "price": 1.0})
    keys = [f"workshop:demo:pipe:{i:05d}" for i in range(count)]

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

    runs = {
        METHODS[0]: one_by_one,
        METHODS[1]: lambda: pipelined(False),
        METHODS[2]: lambda: pipelined(True),
        METHODS[3]: mset,
    }
    results = {}
    for label, method in runs.items():
        demo.tidy(*keys)
        calls_before = len(client.call_log)
        started = time.perf_counter()
        method()
        results[label] = (len(client.call_log) - calls_before, time.perf_counter() - started)
    demo.tidy(*keys)
    return results


def run(demo):
    client = demo.client
    simulated = demo.simulated_rtt
    # One by one over a simulated 1 ms network takes a second per thousand: keep it shorter.
    count = 1000 if (demo.quick or simulated) else 10_000

    demo.heading("1. The round trip")
    rtt = median_rtt(client)
    if simulated:
        loopback = demo.loopback_client()
        loopback_rtt = median_rtt(loopback)
        demo.show(
            "median PING",
            f"{rtt * 1000:.2f} ms through the simulated network ({simulated * 1000:g} ms set), "
            f"{loopback_rtt * 1e6:.0f} µs on loopback",
        )
    else:
        demo.show("median PING round trip", f"{rtt * 1e6:.0f} µs")

    demo.heading(f"2. {count:,} SETs, four ways, in this run")
    results = {"here": measure(demo, client, count)}
    if simulated:
        results["loopback"] = measure(demo, loopback, count)
    rows = []
    for where, measured in results.items():
        base = measured[METHODS[0]][1]
        for label in METHODS:
            trips, spent = measured[label]
            network = (
                f"simulated {simulated * 1000:g} ms"
                if where == "here" and simulated
                else "loopback"
            )
            rows.append(
                [
                    network,
                    label,
                    f"{trips:,}",
                    f"{spent * 1000:.0f} ms",
                    f"{count / spent:,.0f}",
                    f"{base / spent:.1f}x",
                ]
            )
    demo.table(
        "Bulk load, measured",
        ["network", "method", "round trips", "wall time", "SETs/s", "speed-up"],
        rows,
    )
    here = results["here"]
    demo.bars(
        "Throughput" + (" through the simulated network" if simulated else ""),
        "SETs/s",
        [(label, count / here[label][1]) for label in METHODS],
    )
    if simulated:
        gain_here = here[METHODS[0]][1] / here[METHODS[1]][1]
        gain_loop = results["loopback"][METHODS[0]][1] / results["loopback"][METHODS[1]][1]
        demo.say(
            f"Pipelining gained **{gain_here:.0f}x** through the simulated network against "
            f"**{gain_loop:.0f}x** on loopback: {gain_here / gain_loop:.0f} times the loopback "
            "gain."
        )
    stats = client.info("commandstats")
    demo.show(
        "MULTI / EXEC calls so far (valkey-py's pipeline() default is transaction=True)",
        f"{stats.get('cmdstat_multi', {}).get('calls', 0)} / "
        f"{stats.get('cmdstat_exec', {}).get('calls', 0)}",
    )

    demo.heading("3. The arithmetic")
    base = here[METHODS[0]][1]
    demo.say(
        f"One by one, {count:,} commands wait for {count:,} round trips: {count:,} × "
        f"{rtt * 1e6:.0f} µs ≈ **{count * rtt * 1000:.0f} ms** of network time (measured in "
        f"total: {base * 1000:.0f} ms). Pipelined in batches of {BATCH:,}: {count // BATCH} round "
        f"trip(s) ≈ {count // BATCH * rtt * 1000:.2f} ms of waiting."
    )
    demo.say(
        "Over a network with a 1 ms round trip, 10,000 commands one by one wait about "
        "**10,000 ms**; pipelined, about **10 ms**: the gap grows with the RTT."
    )

    demo.heading("4. MULTI/EXEC does not roll back")
    demo.tidy("workshop:demo:pipe:name")
    tx = client.pipeline(transaction=True)
    tx.set("workshop:demo:pipe:name", "widget")
    tx.incr("workshop:demo:pipe:name")  # fails: not a number
    replies = tx.execute(raise_on_error=False)
    demo.show("replies", [r if not isinstance(r, Exception) else f"error: {r}" for r in replies])
    demo.show("the SET stayed anyway", client.get("workshop:demo:pipe:name"))
    demo.tidy("workshop:demo:pipe:name")
