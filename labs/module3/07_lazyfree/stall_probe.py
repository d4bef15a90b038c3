"""Big keys and a concurrent PING probe (step 07's demo and checks).

The probe is another client on its own connection that PINGs in a loop while an action runs;
the longest PING is how long the server could not answer anyone (the stall).
"""

import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import valkey

LAZYFREE_SETTINGS = (
    "lazyfree-lazy-eviction",
    "lazyfree-lazy-expire",
    "lazyfree-lazy-server-del",
    "lazyfree-lazy-user-del",
    "lazyfree-lazy-user-flush",
)


def _resp(parts):
    out = [b"*%d\r\n" % len(parts)]
    for part in parts:
        out.append(b"$%d\r\n%s\r\n" % (len(part), part))
    return b"".join(out)


def build_big_hash(client, key, fields, batch=1000):
    """A hash with `fields` fields ``f0 ... fN`` (value ``v``), built fast.

    The HSET commands are encoded once and sent in one write; the replies are read after.
    valkey-py's pipeline does the same work field by field in Python, about twice as slowly,
    and building is most of what a lazyfree check or demo waits for.
    """
    client.delete(key)
    name = key.encode()
    commands = []
    for start in range(0, fields, batch):
        parts = [b"HSET", name]
        for index in range(start, min(fields, start + batch)):
            parts += (b"f%d" % index, b"v")
        commands.append(_resp(parts))
    connection = client.connection_pool.get_connection("HSET")
    try:
        connection.send_packed_command([b"".join(commands)])
        for _ in commands:
            reply = connection.read_response()
            if isinstance(reply, Exception):
                raise reply
    finally:
        client.connection_pool.release(connection)


def _private(folder):
    try:
        info = folder.stat()
    except OSError:
        return False
    return folder.is_dir() and info.st_uid == os.getuid() and not info.st_mode & 0o077


def _cache_dir(client):
    """Where to keep what one server run taught us, or None (then nothing is cached).

    Only the embedded server's own folder, when the server is ours: it is removed with the
    server, so the cache leaves nothing behind. Any other server (a --url or Docker one) gets
    no cache: a file kept for it would outlive it (about 4 MB per server, never removed).
    """
    try:
        server_dir = Path(client.config_get("dir")["dir"])
    except Exception:  # CONFIG refused (a managed server): no cache
        return None
    ours = server_dir.name.startswith("workshop-valkey-")
    return server_dir if ours and _private(server_dir) else None


def _prune(folder, max_age=3600.0):
    """Drop cache files of servers long gone (a server's run lasts minutes to hours)."""
    now = time.time()
    for path in folder.glob("lazyfree-*"):
        try:
            if now - path.stat().st_mtime > max_age:
                path.unlink()
        except OSError:
            pass


def _write(path, data):
    scratch = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    scratch.write_bytes(data)
    scratch.replace(path)  # whole or absent, even with two writers


class ServerCache:
    """Facts about one server run, kept in files named after its ``run_id``: the DUMP of a big
    hash (RESTORE rebuilds it in a fraction of the time HSET takes) and measured baselines."""

    def __init__(self, client, fields):
        self.client = client
        self.fields = fields
        self.folder = _cache_dir(client)
        self.run_id = client.info("server")["run_id"]

    def _path(self, kind):
        return self.folder / f"lazyfree-{self.run_id}-{self.fields}.{kind}"

    def big_hash(self, key):
        """Put a `fields`-field hash at `key`, from the cached DUMP when there is one."""
        # UNLINK, not DEL, for any old value: the checks turn lazy freeing off, and a blocking
        # free of a big leftover would only add to their time.
        self.client.unlink(key)
        path = self._path("dump") if self.folder else None
        if path is not None and path.is_file():
            try:
                self.client.restore(key, 0, path.read_bytes(), replace=True)
                self._settled()
                return
            except Exception:  # a stale or damaged payload: build it again
                path.unlink(missing_ok=True)
        build_big_hash(self.client, key, self.fields)
        if path is not None:
            _prune(self.folder)
            payload = self.client.dump(key)
            _write(path, payload)
            # A restored hash frees faster than a built one (its memory is laid out in one
            # go), so every key the checks measure must come from the same RESTORE. The built
            # one goes to the background thread (a RESTORE REPLACE would free it in the main
            # thread, which takes longer than building the copy).
            self.client.unlink(key)
            self.client.restore(key, 0, payload)
        self._settled()

    def _settled(self):
        """Wait until the background thread has freed what was handed to it (old copies): a
        measurement taken meanwhile would share the machine with that work."""
        wait_for(lambda: int(self.client.info("memory").get("lazyfree_pending_objects", 0)) == 0)

    def load(self, name):
        path = self._path(f"{name}.json") if self.folder else None
        if path is None or not path.is_file():
            return None
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):
            return None

    def store(self, name, data):
        if self.folder:
            _write(self._path(f"{name}.json"), json.dumps(data).encode())


def wait_for(condition, timeout=2.0, interval=0.005):
    """Poll `condition` until it holds (True) or `timeout` seconds pass (False)."""
    deadline = time.perf_counter() + timeout
    while True:
        if condition():
            return True
        if time.perf_counter() >= deadline:
            return False
        time.sleep(interval)


def lazy_handoffs(client):
    """Values ever handed to the lazyfree thread: ``lazyfree_pending_objects`` (waiting) plus
    ``lazyfreed_objects`` (freed). The server counts a value as pending before the deleting
    command replies, so this has grown by the time the call returns."""
    memory = client.info("memory")
    return int(memory.get("lazyfree_pending_objects", 0)) + int(memory.get("lazyfreed_objects", 0))


def latency_events(client):
    """``LATENCY LATEST`` as {event: (latest ms, max ms)}."""
    return {
        str(row[0]): (int(row[2]), int(row[3]))
        for row in client.execute_command("LATENCY", "LATEST")
    }


class ServerLatencyMonitor:
    """The server's own view of stalls: sets ``latency-monitor-threshold`` for a while (and
    puts it back), so that the latency monitor records commands slower than it; ``LATENCY
    LATEST`` then gives the latest and the largest per event class."""

    def __init__(self, client, threshold_ms=5):
        self.client = client
        self.threshold_ms = threshold_ms
        self.saved = None

    def __enter__(self):
        self.saved = self.client.config_get("latency-monitor-threshold")[
            "latency-monitor-threshold"
        ]
        self.client.config_set("latency-monitor-threshold", self.threshold_ms)
        return self

    def reset(self):
        self.client.execute_command("LATENCY", "RESET")

    def events(self):
        return latency_events(self.client)

    def __exit__(self, *exc):
        self.client.config_set("latency-monitor-threshold", self.saved)
        self.client.execute_command("LATENCY", "RESET")


@dataclass
class Stall:
    call_seconds: float
    max_ping_seconds: float
    pings: list  # (seconds since the action started, PING latency in seconds)
    server_seconds: float  # main-thread time spent on the action's commands (INFO commandstats)
    #: INFO commandstats' usec that grew during the action, per command (``unlink``,
    #: ``client|list``): every client's, so a server shared with other work counts that too.
    command_usec: dict

    def seconds_in(self, names):
        """Main-thread seconds spent in the commands `names` (any case) during the action:
        on a server other clients use meanwhile, only the action's own commands say what the
        action cost (another client's pipeline of GETs is not this deletion's stall)."""
        wanted = {name.lower() for name in names}
        return sum(usec for name, usec in self.command_usec.items() if name in wanted) / 1e6


#: Commands of the measurement itself, not of the action.
_OWN_COMMANDS = {"cmdstat_info", "cmdstat_ping"}


def _usec_by_command(server):
    stats = server.info("commandstats")
    return {k: int(v["usec"]) for k, v in stats.items() if k not in _OWN_COMMANDS}


def measure(url, action, settle=0.05, after=0.15, on_start=None, on_end=None):
    """Run `action` while another connection PINGs; report the longest PING, and how long the
    server's main thread spent executing the action's commands.

    `on_start` and `on_end` run right before and right after the action, inside the window
    that excludes the measurement's own INFO calls (to reset and read LATENCY LATEST, say).
    """
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
    usec_before = _usec_by_command(server)
    if on_start is not None:
        on_start()
    origin = time.perf_counter()
    try:
        action()
    except BaseException:
        # A failed action (a check's verdict) ends the probe too, not only a finished one.
        stop.set()
        thread.join(10)
        server.close()
        raise
    call = time.perf_counter() - origin
    if on_end is not None:
        on_end()
    usec_after = _usec_by_command(server)
    grown = {
        name.removeprefix("cmdstat_"): usec - usec_before.get(name, 0)
        for name, usec in usec_after.items()
        if usec > usec_before.get(name, 0)
    }
    busy = sum(grown.values()) / 1e6
    server.close()
    time.sleep(after)
    stop.set()
    thread.join(10)
    # A PING sent just before the action may be the one that waits for it.
    during = [(sent - origin, latency) for sent, latency in pings if sent - origin > -0.01]
    return Stall(call, max((lat for _, lat in during), default=0.0), during, busy, grown)


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
