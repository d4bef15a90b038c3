"""Demo 06: the same bulk load one by one, pipelined, in MULTI/EXEC and with MSET, measured in
one run; then the RTT arithmetic with the measured round trip. With a simulated network
(`workshop demo --rtt 1ms`) the load runs both through it and over loopback, side by side."""

import json
import statistics
import time

import valkey

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
        if gain_here > gain_loop * 1.5:
            comparison = f"{gain_here / gain_loop:.1f} times the loopback gain."
        else:
            # Seen on a busy machine: the client's own cost per command (and the simulated
            # network's) grows with the load, and on loopback it is most of each round trip.
            comparison = (
                "not clearly more this run: the machine is busy, so the client's own work per "
                "command, not the wire, is most of the time on both networks."
            )
        demo.say(
            f"Pipelining gained **{gain_here:.0f}x** through the simulated network against "
            f"**{gain_loop:.0f}x** on loopback: {comparison}"
        )
    _transaction_note(demo, here)
    stats = client.info("commandstats")
    demo.show(
        "MULTI / EXEC calls so far (valkey-py's pipeline() default is transaction=True)",
        f"{stats.get('cmdstat_multi', {}).get('calls', 0)} / "
        f"{stats.get('cmdstat_exec', {}).get('calls', 0)}",
    )

    demo.heading("3. The arithmetic, with this run's numbers")
    _arithmetic(demo, here, count, rtt, simulated=bool(simulated))

    demo.heading("4. MULTI/EXEC: what an error does")
    _transaction_errors(demo)


def client_cost(measured, count, rtt):
    """Seconds per command that are not waiting for the network: the pipelined load's time
    minus its round trips, per command (the client's encoding and parsing, plus the server's
    microsecond)."""
    trips, spent = measured[METHODS[1]]
    return max(spent - trips * rtt, 0.0) / count


def _duration(seconds):
    return f"{seconds * 1000:.2f} ms" if seconds >= 0.001 else f"{seconds * 1e6:.0f} µs"


def _arithmetic(demo, here, count, rtt, simulated=False):
    base, (trips, piped) = here[METHODS[0]][1], here[METHODS[1]]
    cost = client_cost(here, count, rtt)
    demo.say(
        f"One by one, {count:,} commands wait for {count:,} round trips: {count:,} × "
        f"{_duration(rtt)} ≈ **{count * rtt * 1000:.0f} ms** of waiting (measured in total: "
        f"{base * 1000:.0f} ms). Pipelined in batches of {BATCH:,}: {trips} round "
        f"{'trip' if trips == 1 else 'trips'} ≈ {trips * rtt * 1000:.2f} ms of waiting, yet "
        f"the load took **{piped * 1000:.0f} ms**."
    )
    demo.say(
        f"The gap is the work on both ends, which pipelining does not remove: the client "
        f"encodes each command and parses each reply (valkey-py, plus the demo's own call "
        f"log), the server runs it (about a microsecond), here ≈ **{cost * 1e6:.1f} µs per "
        f"command** in this run (the pipelined time minus its round trips, divided by "
        f"{count:,}; a busy machine shows more). "
        + (
            "Through the simulated network, waiting is most of the one-by-one time; once "
            "pipelined, this work is most of what is left."
            if simulated
            else "On loopback that work is as large as the waiting, so the win stays modest."
        )
    )
    one_ms = 0.001
    by_one = count * (one_ms + cost)
    piped_1ms = count / BATCH * one_ms + count * cost
    demo.say(
        f"Over a network with a 1 ms round trip, with this client's cost: one by one ≈ "
        f"{count:,} × (1 ms + {cost * 1e6:.1f} µs) ≈ **{by_one:.1f} s**; pipelined ≈ "
        f"{count // BATCH} ms of waiting + {count * cost * 1000:.0f} ms of client work ≈ "
        f"**{piped_1ms * 1000:.0f} ms**: about {by_one / piped_1ms:.0f}x, not "
        f"{BATCH:,}x. MSET sends one command per batch, so it saves client work too."
    )


def _transaction_note(demo, measured):
    piped, in_tx = measured[METHODS[1]][1], measured[METHODS[2]][1]
    if in_tx <= piped:
        demo.say(
            f"MULTI/EXEC came out {'as fast as' if in_tx == piped else 'faster than'} the "
            f"plain pipeline this time ({in_tx * 1000:.0f} against {piped * 1000:.0f} ms). "
            "It does not save anything: both send one round trip per batch, and MULTI/EXEC "
            "adds two commands to each. The difference is noise; run the demo again and the "
            "order may flip."
        )
    else:
        demo.say(
            f"MULTI/EXEC took {in_tx * 1000:.0f} against {piped * 1000:.0f} ms: the same "
            "round trips, plus two commands per batch and the queueing on the server."
        )


def _transaction_errors(demo):
    client = demo.client
    demo.tidy("workshop:demo:pipe:name", "workshop:demo:pipe:other")
    demo.say("**A command that fails when it runs** (INCR on a text value):")
    tx = client.pipeline(transaction=True)
    tx.set("workshop:demo:pipe:name", "widget")
    tx.incr("workshop:demo:pipe:name")  # fails at run time: not a number
    tx.set("workshop:demo:pipe:other", "applied")
    replies = tx.execute(raise_on_error=False)
    demo.show("replies", [r if not isinstance(r, Exception) else f"error: {r}" for r in replies])
    demo.show(
        "the SETs stayed anyway (no rollback)",
        [client.get("workshop:demo:pipe:name"), client.get("workshop:demo:pipe:other")],
    )
    demo.tidy("workshop:demo:pipe:name", "workshop:demo:pipe:other")
    demo.say("**A command rejected while queueing** (SET with a missing argument):")
    # One connection, command by command, so that each reply (QUEUED, the error, EXECABORT)
    # shows; valkey-py's pipeline would report only the first error.
    raw = valkey.Valkey.from_url(demo.url, decode_responses=True, single_connection_client=True)
    try:
        name, other = "workshop:demo:pipe:name", "workshop:demo:pipe:other"
        steps = [("MULTI",), ("SET", name, "widget"), ("SET", other)]
        for command in [*steps, ("EXEC",)]:
            raw.connection.send_command(*command)  # the server's own replies, unconverted
            try:
                reply = raw.connection.read_response()
            except valkey.exceptions.ExecAbortError as error:
                reply = f"error: EXECABORT {error}"
            except valkey.ResponseError as error:
                reply = f"error: {error}"
            demo.show(" ".join(command), reply)
        demo.show("the first SET's key after EXEC (nothing applied)", raw.get(name))
    finally:
        raw.close()
    demo.tidy("workshop:demo:pipe:name", "workshop:demo:pipe:other")
