"""Demo 09: what breaks caches in production, shown with counted database reads.

A hot key expires under a crowd of readers (with and without a lock), unknown ids with and
without negative caching, TTLs with and without jitter, the race cache-aside leaves open,
what a write-back queue needs beyond XACK, and a cache that stops answering (a listening socket
of the demo's own that never replies: the session's server is not touched).
"""

import json
import random
import secrets
import socket
import threading
import time

import valkey

from valkey_workshop.labdb import ProductDatabase

#: How long the demo's client waits for the hung cache, per attempt, and how often it retries.
CACHE_TIMEOUT_SECONDS = 0.05
CACHE_RETRIES = 2

RELEASE_LOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""
STORE_IF_NEWER = """
local current = redis.call('GET', KEYS[1])
if current then
    local ok, cached = pcall(cjson.decode, current)
    if ok and type(cached) == 'table' and tonumber(cached['version'])
            and tonumber(cached['version']) >= tonumber(ARGV[2]) then
        return 0
    end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
return 1
"""


def key(product_id):
    return f"product:{product_id}:details"


def plain_read(client, db, product_id):
    cached = client.get(key(product_id))
    if cached is not None:
        return json.loads(cached)
    record = db.get_product(product_id)
    if record is not None:
        client.set(key(product_id), json.dumps(record), ex=300)
    return record


def locked_read(client, db, product_id):
    lock = f"product:{product_id}:lock"
    while True:
        cached = client.get(key(product_id))
        if cached is not None:
            return json.loads(cached)
        token = secrets.token_hex(16)
        if client.set(lock, token, nx=True, px=int(db.latency_seconds * 1000) + 2000):
            try:
                cached = client.get(key(product_id))
                if cached is not None:
                    return json.loads(cached)
                record = db.get_product(product_id)
                client.set(key(product_id), json.dumps(record), ex=300)
                return record
            finally:
                client.eval(RELEASE_LOCK, 1, lock, token)
        time.sleep(0.02)


def crowd(demo, read, product_id, readers):
    """``readers`` threads read ``product_id`` at once; returns (database reads, seconds, the
    spread in seconds between the first and the last reader's start)."""
    db = ProductDatabase(latency_seconds=demo.db.latency_seconds)
    client = demo.loopback_client()
    barrier = threading.Barrier(readers)
    starts = []

    def reader():
        barrier.wait()
        starts.append(time.perf_counter())
        read(client, db, product_id)

    threads = [threading.Thread(target=reader, daemon=True) for _ in range(readers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return db.get_calls, time.perf_counter() - started, max(starts) - min(starts)


def run(demo):
    stampede(demo)
    negative_caching(demo)
    jitter(demo)
    late_reader(demo)
    write_back_queue(demo)
    cache_down(demo)


def stampede(demo):
    hot = "P777"
    readers = 10 if demo.quick else 40
    keys = [key(hot), f"product:{hot}:lock"]
    demo.tidy(*keys)

    demo.heading(f"1. A hot key expires while {readers} readers want it")
    demo.say(
        f"{key(hot)} has just expired. {readers} requests arrive together (threads released "
        f"by one barrier); the database needs {demo.db.latency_seconds:g} s per read."
    )
    plain_calls, plain_seconds, plain_spread = crowd(demo, plain_read, hot, readers)
    demo.tidy(*keys)
    locked_calls, locked_seconds, locked_spread = crowd(demo, locked_read, hot, readers)
    demo.table(
        "Database reads for one expired key",
        ("approach", "readers", "database reads", "all served after"),
        [
            ("plain cache-aside", readers, plain_calls, f"{plain_seconds:.2f} s"),
            ("SET NX PX lock, others wait", readers, locked_calls, f"{locked_seconds:.2f} s"),
        ],
    )
    spread_ms = max(plain_spread, locked_spread) * 1000
    demo.say(
        f"The {readers} readers started within {spread_ms:.1f} ms of each other (measured). "
        f"Without the lock every reader that missed went to the database ({plain_calls} "
        f"reads): a **stampede**. With it, {locked_calls} reader refilled the entry and the "
        "others polled the cache every 20 ms while it read the database, so everyone was "
        f"served after {locked_seconds:.2f} s, about one database read "
        f"({demo.db.latency_seconds:g} s), not after a few milliseconds."
        if locked_calls == 1
        else f"The {readers} readers started within {spread_ms:.1f} ms of each other. "
        f"Without the lock: {plain_calls} database reads; with it: {locked_calls}."
    )
    demo.tidy(*keys)


def negative_caching(demo):
    demo.heading("2. Unknown ids: negative caching")
    unknown = "P404404"
    demo.tidy(key(unknown))
    db = ProductDatabase(latency_seconds=demo.db.latency_seconds / 10)
    for _ in range(5):
        plain_read(demo.setup, db, unknown)
    without = db.get_calls
    db.reset_counts()
    for _ in range(5):
        cached = demo.client.get(key(unknown))
        if cached is None and db.get_product(unknown) is None:
            demo.client.set(key(unknown), json.dumps(None), ex=30)
    demo.show("5 reads of an unknown id, database reads", f"{without} without, {db.get_calls} with")
    demo.show(f"TTL of the remembered miss {key(unknown)}", demo.client.ttl(key(unknown)))
    demo.tidy(key(unknown))


def jitter(demo):
    demo.heading("3. TTL jitter")
    batch = [f"P{n}" for n in range(780, 788)]
    pipe = demo.setup.pipeline(transaction=False)
    for product_id in batch:
        pipe.set(key(product_id), "{}", ex=300)
    pipe.execute()
    fixed = [demo.setup.ttl(key(p)) for p in batch]
    pipe = demo.setup.pipeline(transaction=False)
    for product_id in batch:
        pipe.set(key(product_id), "{}", ex=max(1, 300 + random.randint(-60, 60)))
    pipe.execute()
    jittered = [demo.setup.ttl(key(p)) for p in batch]
    demo.table(
        "TTLs of 8 entries cached in the same second (seconds)",
        ("", *batch),
        [("EX 300", *fixed), ("EX 300 ± 60", *jittered)],
    )
    demo.say("With a fixed TTL they all expire, and miss, in the same second.")
    demo.tidy(*(key(p) for p in batch))


def late_reader(demo):
    demo.heading("4. The race cache-aside leaves open")
    product_id = "P790"
    demo.tidy(key(product_id))
    old = {"id": product_id, "price": 10.0, "version": 1}
    new = {"id": product_id, "price": 12.0, "version": 2}
    demo.say(
        "A reader misses and reads version 1 from the database. Before it writes the cache, "
        "a writer updates the database to version 2 and deletes the cached copy. "
        "Then the reader's SET lands:"
    )
    demo.client.delete(key(product_id))  # the writer's invalidation
    demo.client.set(key(product_id), json.dumps(old), ex=300)  # the reader's late SET
    demo.show("cached after the late SET", demo.client.get(key(product_id)))
    demo.say(
        "Stale until the TTL ends. With versions, the writer stores version 2 and the "
        "late reader's write is refused in the same step on the server:"
    )
    demo.tidy(key(product_id))
    demo.client.eval(STORE_IF_NEWER, 1, key(product_id), json.dumps(new), 2, 300)
    refused = demo.client.eval(STORE_IF_NEWER, 1, key(product_id), json.dumps(old), 1, 300)
    demo.show("late write of version 1 stored?", bool(refused))
    demo.show("cached now", demo.client.get(key(product_id)))
    demo.tidy(key(product_id))


def write_back_queue(demo):
    demo.heading("5. A write-back queue: acknowledged is not deleted")
    stream = "workshop:failure-modes:write-queue"
    demo.tidy(stream)
    for price in (41.0, 42.0, 43.0):
        demo.setup.xadd(stream, {"product_id": "P791", "price": json.dumps(price)})
    demo.setup.xgroup_create(stream, "flushers", id="0")
    entries = demo.client.xreadgroup("flushers", "demo", {stream: ">"})
    ids = [entry_id for _, batch_entries in entries for entry_id, _ in batch_entries]
    demo.client.xack(stream, "flushers", *ids)
    demo.show("entries after XACK of all 3 (XLEN)", demo.client.xlen(stream))
    demo.client.xtrim(stream, minid=ids[-1], approximate=False)
    demo.client.xdel(stream, ids[-1])
    demo.show("after XTRIM MINID (and XDEL of the last)", demo.client.xlen(stream))
    policy = demo.setup.config_get("maxmemory-policy").get("maxmemory-policy")
    demo.say(
        "XACK only clears the pending list; the entries stay until XTRIM (or XDEL). "
        f"This server's `maxmemory-policy` is `{policy}`: under an `allkeys-*` policy the "
        "queue itself can be evicted, losing writes the database never got. Delivery is at "
        "least once, so each database write must be safe to apply twice (set the price to "
        "42, not add 1)."
    )
    demo.tidy(stream)


def _get_with_retries(cache, name, attempts):
    """GET with a short timeout per try and exponential backoff with jitter in between;
    raises the last error when every try failed. ``attempts`` collects each try's error."""
    for attempt in range(1 + CACHE_RETRIES):
        try:
            return cache.get(name)
        except (valkey.TimeoutError, valkey.ConnectionError) as error:
            attempts.append(type(error).__name__)
            if attempt == CACHE_RETRIES:
                raise
            time.sleep(random.uniform(0, 0.01 * 2**attempt))  # full jitter: 0-10 ms, 0-20 ms


def _read_through(cache, db, product_id, attempts):
    """Cache-aside that serves from the database when the cache itself fails."""
    try:
        cached = _get_with_retries(cache, key(product_id), attempts)
    except (valkey.TimeoutError, valkey.ConnectionError):
        return db.get_product(product_id), "gave up on the cache"
    if cached is not None:
        return json.loads(cached), "hit"
    record = db.get_product(product_id)
    cache.set(key(product_id), json.dumps(record), ex=300)
    return record, "miss"


def cache_down(demo):
    demo.heading("6. The cache itself stops answering")
    hung = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    hung.bind(("127.0.0.1", 0))
    hung.listen(8)  # accepts connections (the kernel's backlog) and never replies
    port = hung.getsockname()[1]
    db = ProductDatabase(latency_seconds=demo.db.latency_seconds / 10)
    attempts = []
    try:
        cache = valkey.Valkey(
            host="127.0.0.1",
            port=port,
            socket_connect_timeout=CACHE_TIMEOUT_SECONDS,
            socket_timeout=CACHE_TIMEOUT_SECONDS,
        )
        started = time.perf_counter()
        record, how = _read_through(cache, db, "P123", attempts)
        waited = time.perf_counter() - started - db.latency_seconds * db.get_calls
        cache.close()
    finally:
        hung.close()
    demo.show("tries, each ending in", attempts)
    demo.show("served", f"{record['name']} from the database ({how})")
    demo.show(
        f"time spent on the cache ({len(attempts)} tries of at most "
        f"{CACHE_TIMEOUT_SECONDS * 1000:.0f} ms, backoff between)",
        f"{waited * 1000:.0f} ms",
    )
    demo.say(
        f"The request still got its answer, {waited * 1000:.0f} ms late plus one database "
        "read. valkey-py's default `socket_timeout` is None: without one, a request waits "
        "as long as the server does, and every request thread hangs with it. Keep the "
        "timeout short (a cache that answers slowly is no cache), retry a few times with "
        "backoff and jitter, then serve from the database, and make sure the database can "
        "take that load: a circuit breaker skips the cache for a while instead of timing out "
        "on every request."
    )
