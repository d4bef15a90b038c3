"""Demo 05: client-side caching on two connections: local hits, invalidation after another
client's write, RESP2 without and with REDIRECT, BCAST with PREFIX, and OPTIN."""

import statistics
import time
from pathlib import Path

import valkey

from valkey_workshop.pyfile import load_file_as_module

pushes = load_file_as_module(Path(__file__).with_name("pushes.py"), "workshop_tracking_pushes")

KEY = "workshop:demo:tracking:price"
OTHER = "workshop:demo:tracking:stock"
AFTER = "workshop:demo:tracking:rating"


def run(demo):
    demo.tidy(KEY, OTHER, AFTER)
    writer = demo.client  # the other application instance: its calls are shown with timings
    opened = []

    def connect(**options):
        client = valkey.Valkey.from_url(demo.url, decode_responses=True, **options)
        opened.append(client)
        return client

    try:
        _local_cache(demo, writer, connect(protocol=3, cache_enabled=True))
        _resp2(demo, writer, connect)
        _bcast(demo, writer, connect(protocol=3, single_connection_client=True))
        _optin(demo, writer, connect(protocol=3, single_connection_client=True))
    finally:
        for client in opened:
            client.close()
        demo.tidy(
            KEY, OTHER, AFTER, "workshop:demo:tracking:bcast:P1", "workshop:demo:tracking:user:1"
        )


def _get_stats(demo):
    return int(demo.client.info("commandstats").get("cmdstat_get", {}).get("calls", 0))


def _local_cache(demo, writer, cached):
    demo.heading("1. A RESP3 client with cache_enabled=True")
    writer.set(KEY, "100")
    cached.get(KEY)  # the first read fills the local cache
    demo.show(
        "CLIENT TRACKINGINFO of that connection", cached.execute_command("CLIENT", "TRACKINGINFO")
    )
    rounds = 200 if demo.quick else 2000
    before = _get_stats(demo)
    local = []
    for _ in range(rounds):
        started = time.perf_counter()
        cached.get(KEY)
        local.append(time.perf_counter() - started)
    reached = _get_stats(demo) - before
    remote = []
    for _ in range(rounds):
        started = time.perf_counter()
        writer.get(KEY)
        remote.append(time.perf_counter() - started)
    local_us = statistics.median(local) * 1e6
    remote_us = statistics.median(remote) * 1e6
    demo.table(
        f"{rounds} GETs of the same key, median per GET (measured now)",
        ["client", "per GET", "GETs the server saw"],
        [
            ["cached (local hit)", f"{local_us:.1f} µs", str(reached)],
            ["plain (round trip)", f"{remote_us:.1f} µs", str(rounds)],
        ],
    )
    demo.say(
        f"A local hit took {local_us:.1f} µs against {remote_us:.1f} µs for a loopback round trip; "
        "over a real network the round trip grows and the local hit does not."
    )

    demo.heading("2. Another client writes; the cached client sees it")
    writer.set(KEY, "90")
    time.sleep(0.01)
    demo.show("cached client now reads", cached.get(KEY))
    demo.say(
        f"The server pushed `invalidate [{KEY}]` on the cached client's connection (a push "
        "names the full key). "
        "valkey-py reads such pushes just before its next cached lookup (it has no background "
        "reader), so a read immediately after another client's write can rarely still be stale."
    )


def _resp2(demo, writer, connect):
    demo.heading("3. RESP2: CLIENT TRACKING ON without REDIRECT delivers nothing")
    plain = connect(single_connection_client=True)
    demo.show("CLIENT TRACKING ON answered", plain.client_tracking_on())
    plain.get(KEY)
    demo.show("CLIENT GETREDIR (0: on, no redirect)", plain.execute_command("CLIENT", "GETREDIR"))
    writer.set(KEY, "80")
    demo.say(
        "The server did track the read and the write happened, yet a RESP2 connection cannot "
        "carry the push: nothing arrives. Redirecting to a connection subscribed to "
        "`__redis__:invalidate` makes it work:"
    )
    listener = connect(client_name="workshop-demo-invalidations")
    subscription = listener.pubsub()
    subscription.subscribe("__redis__:invalidate")
    subscription.get_message(timeout=1)  # the subscribe confirmation
    listener_id = next(
        int(entry["id"])
        for entry in writer.client_list()
        if entry.get("name") == "workshop-demo-invalidations"
    )
    redirected = connect(single_connection_client=True)
    redirected.client_tracking_on(clientid=listener_id)
    redirected.get(KEY)
    writer.set(KEY, "70")
    message = subscription.get_message(timeout=1)
    demo.show("message on __redis__:invalidate", message["data"] if message else None)
    subscription.close()


def _bcast(demo, writer, client):
    demo.heading("4. BCAST with PREFIX: every write under the prefix, read or not")
    prefixes_before = _total_prefixes(writer)
    client.client_tracking_on(bcast=True, prefix=["workshop:demo:tracking:bcast:"])
    demo.show("CLIENT TRACKINGINFO", client.execute_command("CLIENT", "TRACKINGINFO"))
    demo.show(
        "INFO tracking_total_prefixes (the server's prefix table)",
        f"{prefixes_before} before, {_total_prefixes(writer)} now",
    )
    writer.set("workshop:demo:tracking:bcast:P1", "never read by the tracking client")
    writer.set("workshop:demo:tracking:user:1", "outside the prefix")
    demo.show("invalidation pushes received", pushes.invalidated_keys(client))
    demo.say(
        "No memory per key read, but every write under the prefix is reported to every "
        "client registered for it, whether it ever read the key or not. The server batches "
        "these reports: one push can name several keys (an MSET of three gives one push)."
    )


def _total_prefixes(client):
    return client.info("stats").get("tracking_total_prefixes", "n/a")


def _optin(demo, writer, client):
    demo.heading("5. OPTIN: only the command right after CLIENT CACHING YES is tracked")
    client.client_tracking_on(optin=True)
    client.get(OTHER)  # not announced: not tracked
    client.execute_command("CLIENT", "CACHING", "YES")
    client.get(KEY)  # the command right after CACHING YES: tracked
    client.get(AFTER)  # the one after that: not tracked any more
    writer.set(OTHER, "5")
    writer.set(KEY, "60")
    writer.set(AFTER, "4")
    reported = pushes.invalidated_keys(client)
    demo.show("invalidation pushes received", reported)
    demo.say(
        f"Of three keys read and then written, {len(reported)} "
        f"{'was' if len(reported) == 1 else 'were'} reported: `CLIENT CACHING YES` covers only "
        "the command right after it, so announce each read you cache. OPTIN suits a client "
        "that caches a few chosen reads."
    )
