"""Big keys and a concurrent PING probe (step 07's demo and checks).

The probe is another client on its own connection that PINGs in a loop while an action runs;
the longest PING is how long the server could not answer anyone (the stall).
"""

import threading
import time
from dataclasses import dataclass

import valkey

LAZYFREE_SETTINGS = (
    "lazyfree-lazy-eviction",
    "lazyfree-lazy-expire",
    "lazyfree-lazy-server-del",
    "lazyfree-lazy-user-del",
    "lazyfree-lazy-user-flush",
)


def build_big_hash(client, key, fields):
    """A hash with `fields` fields, sent in pipelined batches of 1,000."""
    client.delete(key)
    pipe = client.pipeline(transaction=False)
    for start in range(0, fields, 1000):
        pipe.hset(key, mapping={f"f{i}": "v" for i in range(start, min(fields, start + 1000))})
        if len(pipe) >= 50:
            pipe.execute()
    pipe.execute()


@dataclass
class Stall:
    call_seconds: float
    max_ping_seconds: float
    pings: list  # (seconds since the action started, PING latency in seconds)
    server_seconds: float  # main-thread time spent on the action's commands (INFO commandstats)


#: Commands of the measurement itself, not of the action.
_OWN_COMMANDS = {"cmdstat_info", "cmdstat_ping"}


def _busy_usec(server):
    stats = server.info("commandstats")
    return sum(int(v["usec"]) for k, v in stats.items() if k not in _OWN_COMMANDS)


def measure(url, action, settle=0.05, after=0.15):
    """Run `action` while another connection PINGs; report the longest PING, and how long the
    server's main thread spent executing the action's commands."""
    stop = threading.Event()
    pings = []  # (perf_counter when the PING was sent, its latency)
    ready = threading.Event()

    def probe():
        client = valkey.Valkey.from_url(url, socket_timeout=10)
        client.ping()
        ready.set()
        while not stop.is_set():
            started = time.perf_counter()
            client.ping()
            pings.append((started, time.perf_counter() - started))
        client.close()

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    ready.wait(5)
    server = valkey.Valkey.from_url(url)
    time.sleep(settle)
    busy_before = _busy_usec(server)
    origin = time.perf_counter()
    action()
    call = time.perf_counter() - origin
    busy = (_busy_usec(server) - busy_before) / 1e6
    server.close()
    time.sleep(after)
    stop.set()
    thread.join(10)
    # A PING sent just before the action may be the one that waits for it.
    during = [(sent - origin, latency) for sent, latency in pings if sent - origin > -0.01]
    return Stall(call, max((lat for _, lat in during), default=0.0), during, busy)


def timeline(stall, width=60, height=6, scale=None, span=None):
    """PING latency over time as rows of bars (tallest bar: `scale` seconds). Each PING is
    drawn across the whole time it was waiting, so a stall is as wide as it was long."""
    span = span or max((at + lat for at, lat in stall.pings), default=0.2)
    scale = scale or max(stall.max_ping_seconds, 1e-6)
    columns = [0.0] * width

    def column(at):
        return min(width - 1, max(0, int(max(at, 0.0) / span * width)))

    for at, latency in stall.pings:
        for index in range(column(at), column(at + latency) + 1):
            columns[index] = max(columns[index], latency)
    rows = []
    for level in range(height, 0, -1):
        threshold = scale * (level - 0.5) / height
        rows.append("".join("█" if value >= threshold else " " for value in columns))
    rows.append("─" * width)
    return tuple(rows)
