"""Checks for step 09 (failure modes).

What the step teaches, each proved against the live server: one database read for a crowd of
readers after a hot key expires (a lock with a TTL, released only by its owner), remembered
misses with a short TTL, expiries spread by jitter, and cache writes that never replace a newer
version with an older one, even when another writer gets in between.
"""

import contextlib
import functools
import json
import threading
import time

import valkey

from valkey_workshop.checking import faults, inspect
from valkey_workshop.checking.api import CheckContext, CheckFailed, check, describe_exception
from valkey_workshop.labdb import ProductDatabase, catalogue_record
from valkey_workshop.timing.client import TimedPipeline, TimedValkey
from valkey_workshop.timing.records import CallLog

GET = "get_product_protected"
JITTER = "ttl_with_jitter"
IF_NEWER = "cache_if_newer"
#: Readers that arrive together once the hot key has expired.
READERS = 8
#: The database read the crowd waits for: long against Valkey round trips and thread starts.
SLOW_DB_SECONDS = 0.08
#: The most stampede's first database read waits for every reader's first look: well inside
#: the shortest lock the settings allow (500 ms) with the read's 80 ms on top.
OVERLAP_WAIT_SECONDS = 0.2
#: How long a check waits for the learner's readers before calling them stuck.
STUCK_SECONDS = 5.0
OTHER_HOLDER = "another-app-server"


def key(product_id):
    return f"product:{product_id}:details"


def lock(product_id):
    return f"product:{product_id}:lock"


def setting(ctx, name, default):
    value = getattr(ctx.exercise, name, default)
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def ttl_bounds(ctx):
    """The TTLs a cached record may have: CACHE_TTL_SECONDS give or take the spread."""
    base = setting(ctx, "CACHE_TTL_SECONDS", 300)
    spread = setting(ctx, "TTL_SPREAD_SECONDS", 60)
    return max(1, base - spread), base + spread


class SlowDatabase(ProductDatabase):
    """The product database, with a hook at the start of each read (once)."""

    def __init__(self, latency_seconds, on_read=None, fail_with=None):
        super().__init__(latency_seconds=latency_seconds)
        self.on_read = on_read
        self.fail_with = fail_with

    def get_product(self, product_id):
        if self.on_read is not None:
            hook, self.on_read = self.on_read, None
            hook(product_id)
        if self.fail_with is not None:
            self._log("get_product", product_id, time.perf_counter_ns())
            raise self.fail_with
        return super().get_product(product_id)


#: How long readers may still wait once the record is cached and the lock gone: a reader
#: that sleeps WAIT_SECONDS (20 ms) between looks has long returned (25 sleeps), even on a
#: loaded machine; one that sleeps WAIT_SECONDS * 1000 (20 s) has not.
STUCK_AFTER_FILL_SECONDS = 0.5


def _filled_and_released(ctx, product_id):
    return bool(ctx.server.exists(key(product_id))) and not ctx.server.exists(lock(product_id))


def run_readers(ctx, db, product_id, count, stuck=None, on_return=None):
    """``count`` readers call the learner's function at the same moment, each in a thread.
    Returns their results (in no particular order); fails the check when one raised, or with
    ``stuck`` (or a general message) when one is still waiting after STUCK_SECONDS, or
    STUCK_AFTER_FILL_SECONDS after the record was cached and the lock released.
    ``on_return()`` runs in each reader's thread when its call has ended."""
    function = ctx.implementation(GET)
    barrier = threading.Barrier(count)
    results, errors = [], []

    def reader():
        try:
            barrier.wait(timeout=STUCK_SECONDS)
            results.append(function(ctx.client, db, product_id))
        except Exception as error:
            errors.append(error)
        finally:
            if on_return is not None:
                on_return()

    threads = [threading.Thread(target=reader, daemon=True) for _ in range(count)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + STUCK_SECONDS
    filled_at = None  # when the record was first seen cached and the lock gone
    while any(thread.is_alive() for thread in threads) and time.monotonic() < deadline:
        next(thread for thread in threads if thread.is_alive()).join(0.05)
        if filled_at is None and _filled_and_released(ctx, product_id):
            filled_at = time.monotonic()
        if filled_at is not None and time.monotonic() - filled_at > STUCK_AFTER_FILL_SECONDS:
            break  # every reader that looks again now finds the record: these do not
    if any(thread.is_alive() for thread in threads):
        if stuck:
            ctx.fail(stuck)
        waiting = sum(thread.is_alive() for thread in threads)
        said = (
            f"{waiting} of {count} readers of {product_id} were still waiting after "
            f"{STUCK_SECONDS:g} s (the database answered after {db.latency_seconds:g} s)"
        )
        if filled_at is not None:
            said = (
                f"{waiting} of {count} readers of {product_id} were still waiting "
                f"{STUCK_AFTER_FILL_SECONDS:g} s after the record was cached and the lock "
                "released"
            )
        if ctx.server.exists(lock(product_id)):
            ctx.fail(
                f"{said}, and {lock(product_id)} is still held: does the lock holder always "
                "release the lock (with its own token)?"
            )
        if ctx.server.exists(key(product_id)):
            ctx.fail(
                f"{said}: the waiting readers do not look at the cache again soon enough "
                f"(WAIT_SECONDS is {getattr(ctx.exercise, 'WAIT_SECONDS', '?')}). Is the sleep "
                "between looks WAIT_SECONDS seconds? (time.sleep takes seconds: "
                "WAIT_SECONDS * 1000 sleeps 20 s.)"
            )
        ctx.fail(
            f"{said}; nothing is cached and no lock is held. Do waiting readers look at the "
            "cache again, and take the lock when it is gone?"
        )
    if errors:
        error = errors[0]
        if isinstance(error, NotImplementedError):
            ctx.fail(
                f"{GET}() is not written yet (it raises NotImplementedError): fill in the "
                f"TODOs in {ctx.exercise_file.name}."
            )
        ctx.fail(f"A reader's {GET}() raised {type(error).__name__}: {error}")
    return results


def lock_sets(calls, product_id):
    """The commands the learner used to take the product's lock."""
    return inspect.on_key(calls, lock(product_id), {"SET", "SETNX"})


#: The shortest lock TTL the settings allow: several times any database read in these checks,
#: so that a holder preempted on a loaded machine still holds its lock when the read ends (a
#: 200 ms lock against an 80 ms read can let a second reader in on a loaded machine).
MIN_LOCK_TTL_MS = 500

#: A lock taken in a script is judged by what is left when the read begins: less than this.
SCRIPT_LOCK_LEFT_MS = 100

#: The waiting readers' sleep between looks, in seconds: the bounds the lesson states.
WAIT_SECONDS_RANGE = (0.001, 1.0)


def _lock_passed_as_argument(calls):
    """Words for a script run with a lock key among its arguments (ARGV) but not its keys, or
    None: KEYS[1] is then the token, and the script's DEL never touches the lock."""
    for _name, args, _call in inspect.commands(calls):
        carried = inspect.script_arguments(args)
        if not carried:
            continue
        try:
            count = int(str(args[2]))
        except (TypeError, ValueError):
            continue
        keys, argv = carried[:count], carried[count:]
        misplaced = [a for a in argv if a.startswith("product:") and a.endswith(":lock")]
        if misplaced and misplaced[0] not in keys:
            return (
                f"A script ran with KEYS {list(keys)} and ARGV {list(argv)}: the lock's name "
                f"({misplaced[0]}) went in as an argument, so KEYS[1] is the token and the "
                "release never deletes the lock. The order is script, 1, lock_key(product_id), "
                "token: eval(RELEASE_LOCK, 1, lock_key, token)."
            )
    return None


def _names_misplaced_lock(check_function):
    """Under @check for the checks that release the lock: a release script handed the lock as
    ARGV fails for that, whatever symptom (a lock still held) the check met first."""

    @functools.wraps(check_function)
    def judged(ctx):
        mark, others = ctx.client.call_log.mark(), len(_OTHER_CALL_LOGS)
        try:
            check_function(ctx)
        except CheckFailed as failure:
            calls = ctx.client.call_log.records(mark)
            for log in _OTHER_CALL_LOGS[others:]:
                calls += log.records(0)
            if misplaced := _lock_passed_as_argument(calls):
                seen = str(failure).split(": ", 1)[0].split(". ", 1)[0]
                ctx.fail(f"{misplaced} What this check saw: {seen}.")
            raise

    return judged


@check("settings", "The TTL, spread, negative TTL and lock TTL are sensible", lesson="Your turn")
def settings(ctx: CheckContext) -> None:
    ranges = {
        "CACHE_TTL_SECONDS": (1, 86400, "seconds, like 300"),
        "TTL_SPREAD_SECONDS": (1, 3600, "seconds, like 60 (0 would mean no jitter)"),
        "NEGATIVE_TTL_SECONDS": (1, 300, "seconds, like 30: a miss is remembered briefly"),
        "LOCK_TTL_MS": (
            MIN_LOCK_TTL_MS,
            60000,
            "milliseconds, like 2000: several times a database read",
        ),
    }
    values = {}
    for name, (low, high, unit) in ranges.items():
        value = ctx.setting(name)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            ctx.fail(
                f"{name} is {value!r}; it should be a whole number from {low} to {high} {unit}."
            )
        values[name] = value
    if values["TTL_SPREAD_SECONDS"] >= values["CACHE_TTL_SECONDS"]:
        ctx.fail(
            f"TTL_SPREAD_SECONDS ({values['TTL_SPREAD_SECONDS']}) is not smaller than "
            f"CACHE_TTL_SECONDS ({values['CACHE_TTL_SECONDS']}): the jitter should spread "
            "expiries around the TTL, not replace it."
        )
    wait = ctx.setting("WAIT_SECONDS")
    low, high = WAIT_SECONDS_RANGE
    if isinstance(wait, bool) or not isinstance(wait, int | float) or not low <= wait <= high:
        ctx.fail(
            f"WAIT_SECONDS is {wait!r}; it should be a number of seconds from {low} to {high}, "
            "like 0.02: a waiting reader looks at the cache again after that long, so a "
            "longer wait keeps every reader waiting long after the entry is back."
        )
    if wait * 1000 >= values["LOCK_TTL_MS"]:
        ctx.fail(
            f"WAIT_SECONDS ({wait} s) is not shorter than the lock's life, LOCK_TTL_MS "
            f"({values['LOCK_TTL_MS']} ms): a waiter would sleep through the whole refill."
        )
    if values["NEGATIVE_TTL_SECONDS"] >= values["CACHE_TTL_SECONDS"]:
        ctx.fail(
            f"NEGATIVE_TTL_SECONDS ({values['NEGATIVE_TTL_SECONDS']}) should be shorter than "
            f"CACHE_TTL_SECONDS ({values['CACHE_TTL_SECONDS']}): a product added to the "
            "database stays invisible for as long as its miss is remembered."
        )


@check(
    "jitter-range",
    "ttl_with_jitter() gives whole seconds, spread around the base, at least 1",
    hint=1,
    lesson="TTL jitter",
)
def jitter_range(ctx: CheckContext) -> None:
    draws = [ctx.call(JITTER, 300, 60) for _ in range(300)]
    wrong_type = next((d for d in draws if isinstance(d, bool) or not isinstance(d, int)), None)
    if wrong_type is not None:
        ctx.fail(
            f"{JITTER}(300, 60) returned {wrong_type!r} ({type(wrong_type).__name__}): "
            "EX takes whole seconds. Use random.randint, or int() the result."
        )
    outside = [d for d in draws if not 240 <= d <= 360]
    if outside:
        ctx.fail(
            f"{JITTER}(300, 60) returned {outside[0]}, outside 240..360: the spread is how far "
            "a TTL may move from the base, in either direction or one."
        )
    if len(set(draws)) == 1:
        ctx.fail(
            f"{JITTER}(300, 60) returned {draws[0]} in all 300 calls: the jitter is chosen once, "
            "so every entry still expires together. Draw a new random number on each call."
        )
    if len(set(draws)) < 10:
        ctx.fail(
            f"300 calls of {JITTER}(300, 60) gave only {len(set(draws))} different TTLs "
            f"({sorted(set(draws))}); expiries stay bunched. Pick any whole number in the range."
        )
    for base in (300, 1):
        exact = {ctx.call(JITTER, base, 0) for _ in range(20)}
        if exact != {base}:
            ctx.fail(
                f"{JITTER}({base}, 0) returned {sorted(exact)}; with no spread it should be {base}."
            )
    small = [ctx.call(JITTER, 2, 10) for _ in range(200)]
    if min(small) < 1:
        ctx.fail(
            f"{JITTER}(2, 10) returned {min(small)}: Valkey refuses an EX of 0 or less "
            "('invalid expire time'). Never return less than 1."
        )
    if max(small) > 12:
        ctx.fail(f"{JITTER}(2, 10) returned {max(small)}, more than 2 + 10.")


@check(
    "hit-and-miss",
    "A miss reads the database once and caches JSON with a TTL; a hit skips the database",
    hint=1,
    lesson="The stampede",
)
def hit_and_miss(ctx: CheckContext) -> None:
    product = "P901"
    ctx.use_keys(key(product), lock(product))
    db = ctx.database()
    first = ctx.call(GET, ctx.client, db, product)
    expected = catalogue_record(product)
    if first != expected:
        ctx.fail(f"On a miss, {GET}() returned {first!r}; expected the database's {expected!r}.")
    if db.get_calls != 1:
        ctx.fail(f"One miss read the database {db.get_calls} times; once is enough.")
    raw = ctx.server.get(key(product))
    if raw is None:
        ctx.fail(f"After a miss nothing was cached at {key(product)}; store the record there.")
    try:
        cached = json.loads(raw)
    except ValueError:
        ctx.fail(f"{key(product)} holds {raw[:60]!r}, not JSON. Store json.dumps(record).")
    if cached != expected:
        ctx.fail(f"{key(product)} holds {cached!r}; expected the record {expected!r}.")
    low, high = ttl_bounds(ctx)
    ttl = ctx.server.ttl(key(product))
    if ttl == -1:
        ctx.fail(f"{key(product)} has no TTL; give it ttl_with_jitter(CACHE_TTL_SECONDS, ...).")
    if not low - 1 <= ttl <= high:
        ctx.fail(f"{key(product)} has a TTL of {ttl} s; expected {low}..{high} (TTL and spread).")
    window = inspect.ttl_window(ctx.learner_calls(), key(product))
    if window:
        ctx.fail(window)
    db.reset_counts()
    mark = ctx.client.call_log.mark()
    again = ctx.call(GET, ctx.client, db, product)
    if db.get_calls:
        ctx.fail(f"{GET}() read the database on a cache hit; return the cached copy.")
    if again != expected:
        ctx.fail(f"On a hit, {GET}() returned {again!r}; expected {expected!r}.")
    if lock_sets(ctx.client.call_log.records(mark), product):
        ctx.fail(
            f"{GET}() took {lock(product)} on a cache hit: every read now waits its turn for "
            "the lock and costs three round trips. Return the cached copy as soon as GET finds "
            "it; only a miss needs the lock."
        )


@check(
    "expiries-spread",
    "Entries cached together get different TTLs (jitter)",
    hint=1,
    lesson="TTL jitter",
)
def expiries_spread(ctx: CheckContext) -> None:
    products = [f"P{n}" for n in range(910, 922)]
    ctx.use_keys(*(key(p) for p in products), *(lock(p) for p in products))
    db = ctx.database(latency_seconds=0.0)
    asked = []
    for product in products:
        ctx.call(GET, ctx.client, db, product)
        asked.append(_asked_ttl_ms(ctx, key(product)))
    if None in asked:
        return  # not cached, or without a TTL: the check hit-and-miss names that
    if max(asked) - min(asked) < SPREAD_MIN_MS:
        ctx.fail(
            f"{len(products)} products cached one after another all got a TTL of "
            f"{_seconds(max(asked))} s: they expire together and the database takes every "
            "miss at once. Use ttl_with_jitter(CACHE_TTL_SECONDS, TTL_SPREAD_SECONDS) for "
            "each entry."
        )


def _asked_ttl_ms(ctx, name):
    """The time to live (ms) the code just gave ``name``, read at once: the PTTL differs from
    what was asked only by the round trip since. (TTLs read after a whole loop differ by the
    loop's length, which load stretches: a fixed TTL read 299 and 300 s and looked spread.)
    None when the key is missing or has no TTL."""
    pttl = ctx.server.pttl(name)
    return pttl if pttl >= 0 else None


def _seconds(milliseconds):
    return -(-milliseconds // 1000)  # whole seconds, as the EX that was asked


def _judge_miss_is_json(ctx, product, raw, then=""):
    """Fail when ``raw``, the remembered miss at the product's key, is not the JSON text null."""
    if raw is None:
        return
    try:
        decoded, valid = json.loads(raw), True
    except ValueError:
        decoded, valid = None, False
    if not valid or decoded is not None:
        what = "is not JSON" if not valid else f"decodes to {decoded!r}, not None"
        ctx.fail(
            f"The miss for {product} is remembered at {key(product)} as {raw[:40]!r}, not the "
            f"JSON text null{then}: every reader of {key(product)} decodes it with json.loads, "
            f"and {raw[:40]!r} {what} (cache_if_newer and other readers know null as a "
            "remembered miss). Store json.dumps(None)"
            + (", not str(None)." if raw == "None" else ".")
        )


@check(
    "negative-cache",
    "An unknown product is remembered as a miss, briefly: the database is asked once",
    hint=2,
    lesson="Negative caching",
)
def negative_cache(ctx: CheckContext) -> None:
    product = "P4040"  # not in the catalogue
    ctx.use_keys(key(product), lock(product))
    db = ctx.database()
    first = ctx.call(GET, ctx.client, db, product)
    try:
        second = ctx.call(GET, ctx.client, db, product)
    except CheckFailed:
        # The second read may trip over what the first one stored (json.loads('None')): the
        # stored text is the fault, the exception only its symptom.
        raw = ctx.server.get(key(product))
        _judge_miss_is_json(ctx, product, raw, then=", and the second read raised on it")
        raise
    if first is not None or second is not None:
        ctx.fail(
            f"{GET}() returned {first!r}, then {second!r} for a product the database does not "
            "know; both should be None."
        )
    raw = ctx.server.get(key(product))
    if db.get_calls > 1 and raw == "null":
        ctx.fail(
            f"Two reads of an unknown product asked the database {db.get_calls} times, though "
            f"the miss is remembered ({key(product)} holds null): the second read took the "
            "cached null for a miss. A cached null is an answer (the product does not exist): "
            "tell 'key absent' (GET returns None) from 'null cached' (GET returns \"null\") and "
            "return None for the second without asking the database."
        )
    if db.get_calls > 1:
        ctx.fail(
            f"Two reads of an unknown product asked the database {db.get_calls} times: a miss is "
            "not remembered, so every request for a missing id (a typo, a scraper, an attack) "
            "goes to the database every time. Cache the miss too, with NEGATIVE_TTL_SECONDS."
        )
    _judge_miss_is_json(ctx, product, raw)
    found_keys = [k for k in ctx.server.scan_iter(match=f"*{product}*", count=1000)]
    pttls = {found: ctx.server.pttl(found) for found in found_keys if found != lock(product)}
    # PTTL -2: gone already (remembered for milliseconds); -1: no TTL at all.
    remembered = {found: ms / 1000 if ms >= 0 else -1 for found, ms in pttls.items() if ms != -2}
    ctx.use_keys(*found_keys)  # removed again when the checks end
    limit = setting(ctx, "NEGATIVE_TTL_SECONDS", 30)
    window = inspect.ttl_window(ctx.learner_calls(), key(product))
    if window:
        ctx.fail(window)
    if not remembered:
        ctx.fail(
            f"The miss for {product} was remembered only for a moment: a few milliseconds "
            f"later nothing about it is cached. Remember it for NEGATIVE_TTL_SECONDS ({limit} "
            "s, ex=, not px=)."
        )
    for found, ttl in remembered.items():
        if 0 < ttl < limit - 1:
            ctx.fail(
                f"The miss for {product} is remembered for {ttl:.3f} s, not NEGATIVE_TTL_SECONDS "
                f"({limit} s): soon the database answers for it again. (ex= takes seconds, px= "
                "milliseconds.)"
            )
        if ttl < 0:
            ctx.fail(
                f"The miss for {product} is remembered at {found} with no TTL: if the product "
                "is added later, it stays invisible forever. Give it NEGATIVE_TTL_SECONDS."
            )
        if ttl > limit:
            ctx.fail(
                f"The miss for {product} is remembered for {ttl:.0f} s, longer than "
                f"NEGATIVE_TTL_SECONDS ({limit}): a product added meanwhile stays invisible "
                "that long. Use the short TTL for misses."
            )


@check(
    "stampede",
    f"{READERS} readers of an expired hot key cause one database read",
    hint=2,
    lesson="The stampede",
)
@_names_misplaced_lock
def stampede(ctx: CheckContext) -> None:
    product = "P930"
    ctx.use_keys(key(product), lock(product))
    looked, lock_count, everyone_looked = [], threading.Lock(), threading.Event()

    def count_looks(sent, _reply):
        if _reads_key(sent, key(product)):
            with lock_count:
                looked.append(sent)
                if len(looked) >= READERS:
                    everyone_looked.set()

    # The first database read starts once every reader has looked at the cache (or after
    # OVERLAP_WAIT_SECONDS): the readers then overlap on any machine load. A scheduler that
    # started the last threads after the holder's read once let a shared token, or waiters
    # that read the database, through with one reader at a time.
    db = SlowDatabase(
        SLOW_DB_SECONDS, on_read=lambda _id: everyone_looked.wait(OVERLAP_WAIT_SECONDS)
    )
    with _after_each_round_trip(ctx.client, count_looks):
        results = run_readers(ctx, db, product, READERS)
    expected = catalogue_record(product)
    took_lock = lock_sets(ctx.learner_calls(), product)
    if db.get_calls > 1:
        _fail_lock_expired_mid_read(ctx, product, took_lock)
        if took_lock:
            ctx.fail(
                f"{READERS} readers arrived together after {key(product)} expired and the "
                f"database was read {db.get_calls} times, although a lock was taken: readers "
                "that did not get the lock must wait and read the cache again, not go to the "
                "database."
            )
        ctx.fail(
            f"{READERS} readers arrived together after {key(product)} expired and the database "
            f"was read {db.get_calls} times, once per reader: a stampede. Let one reader "
            f"refill the entry (SET {lock(product)} token NX PX ...) while the others wait."
        )
    if db.get_calls == 0:
        ctx.fail(f"No reader read the database, yet {key(product)} was empty.")
    tokens = [str(c.args[2]) for c in lock_sets(ctx.learner_calls(), product) if len(c.args) > 2]
    # A value every reader shares is the graver fault (and a word like 'locked' is both).
    if len(tokens) > 1 and len(set(tokens)) == 1:
        ctx.fail(
            f"Every reader took the lock with the same value ({tokens[0]!r}): then any reader "
            "(or another app server) can release a lock it does not hold. Use a random token "
            "per attempt: secrets.token_hex(16)."
        )
    short = [t for t in tokens if len(t) < 8]
    if short:
        ctx.fail(
            f"The lock's token {short[0]!r} is short: two readers can draw the same one, and "
            "then each can release the other's lock. Use secrets.token_hex(16)."
        )
    wrong = [r for r in results if r != expected]
    if wrong:
        ctx.fail(
            f"{len(wrong)} of {READERS} readers got {wrong[0]!r} instead of the record "
            f"{expected!r}: a reader that waited must return the record the lock holder cached."
        )


def _expiry_ms(args):
    """The expiry a SET's options give, in milliseconds (None without EX or PX)."""
    words = [str(a).upper() for a in args]
    for option, scale in (("PX", 1), ("EX", 1000)):
        if option in words[3:-1]:
            try:
                return int(float(words[words.index(option, 3) + 1]) * scale)
            except ValueError:
                return None
    return None


def _fail_lock_expired_mid_read(ctx, product, took_lock):
    """Several readers got the lock, each after the last one's expiry ran out during its
    database read: the lock's TTL is the fault, not the waiters."""
    granted = [c for c in took_lock if c.call.batch is None and c.call.reply in (True, "OK")]
    expiries = [ms for c in granted if (ms := _expiry_ms(c.args)) is not None]
    read_ms = SLOW_DB_SECONDS * 1000
    if len(granted) > 1 and expiries and min(expiries) < read_ms:
        ctx.fail(
            f"The lock {lock(product)} was taken {len(granted)} times: it lived "
            f"{min(expiries)} ms, shorter than the database read ({read_ms:.0f} ms here), so "
            "it expired while its holder was still reading and the next reader took it and "
            "read too. Give the lock longer than a database read can take: px=LOCK_TTL_MS."
        )


@check(
    "lock-has-ttl",
    "The lock is taken atomically with SET NX and a TTL",
    hint=2,
    lesson="The stampede",
)
def lock_has_ttl(ctx: CheckContext) -> None:
    """Judged by what the server holds while the reader reads the database (the lock key,
    its token and its TTL), however the lock was taken (SET, a Lua script, a function);
    then the spellings that leave a window: SETNX, a SET without NX, a separate EXPIRE.
    Then again for an id with a space or a colon and letters beyond ASCII: the lock is
    lock_key(product_id) with the id as given."""
    for product in ("P931", ctx.product_id("unicode")):
        _lock_has_ttl_for(ctx, product)


def _lock_has_ttl_for(ctx, product):
    ctx.use_keys(key(product), lock(product))
    held = {}
    since = len(ctx.learner_calls())  # this product's calls only

    def look_at_the_lock(product_id):
        held["value"] = ctx.server.get(lock(product_id))
        held["pttl"] = ctx.server.pttl(lock(product_id))

    ctx.call(GET, ctx.client, SlowDatabase(0.005, on_read=look_at_the_lock), product)
    calls = ctx.learner_calls()[since:]
    taken = lock_sets(calls, product)
    if "pttl" not in held:
        ctx.fail(f"On a miss for {product}, {GET}() never read the database.")
    if held["value"] is None:
        others = sorted(
            {
                str(args[1])
                for name, args, _ in inspect.commands(calls)
                if name in {"SET", "SETNX"} and str(args[1]) != key(product)
            }
        )
        where = f" (it set {', '.join(map(str, others))})" if others else ""
        ctx.fail(
            f"On a miss, {GET}() read the database while no lock existed at "
            f"{lock(product)}{where}. Take it first with client.set(lock_key(product_id), "
            "token, nx=True, px=LOCK_TTL_MS)."
        )
    setnx = [command for command in taken if command.name == "SETNX"]
    in_one_transaction = [
        command
        for command in setnx
        if command.call.batch is not None
        and command.call.batch.transaction
        and any(
            str(args[0]).upper() in {"EXPIRE", "PEXPIRE"} and str(args[1]) == lock(product)
            for args in command.call.batch.commands
        )
    ]
    if in_one_transaction:
        ctx.fail(
            "The lock is taken with SETNX and given its TTL by PEXPIRE (or EXPIRE) in one "
            "MULTI/EXEC: no gap, but the expiry runs whether SETNX won or not, so every "
            "waiting reader sets the holder's lock's TTL again, and a dead holder's lock never "
            "expires while readers wait. Use SET key token NX PX LOCK_TTL_MS (one command)."
        )
    if setnx:
        ctx.fail(
            "The lock is taken with SETNX, which cannot carry a TTL: if the holder dies "
            "before it sets one, the lock stays forever and every reader waits. Use "
            "SET key token NX PX LOCK_TTL_MS (one command)."
        )
    if held["pttl"] == -1:
        scripts = [
            name
            for name, args, _call in inspect.commands(calls)
            if lock(product) in inspect.script_arguments(args)
        ]
        how = (
            f" (taken with {' '.join(map(str, taken[0].args[:2]))} …)"
            if taken
            else f" (taken inside a script, {scripts[0]})"
            if scripts
            else ""
        )
        ctx.fail(
            f"While its holder read the database, {lock(product)} existed with no TTL{how}: if the "
            "holder crashes before releasing it, the lock stays forever and every reader of "
            "this product waits. Give it LOCK_TTL_MS in the same command that takes it "
            "(SET ... NX PX, inside a script too)."
        )
    for command in taken:
        options = {str(a).upper() for a in command.args[3:]}
        if "NX" not in options:
            ctx.fail(
                f"The lock is taken with SET without NX ({' '.join(map(str, command.args))}): "
                "every reader overwrites it and believes it holds it. Add nx=True."
            )
    expiries = inspect.on_key(calls, lock(product), inspect.EXPIRY_COMMANDS)
    if expiries:
        ctx.fail(
            f"The lock's TTL is set with a separate {expiries[0].name}: a crash between the two "
            "commands leaves a lock that never expires. Use set(..., nx=True, px=LOCK_TTL_MS)."
        )
    # A lock that dies before its holder's database read ends lets the next reader in too.
    # Judged by the expiry the SET asked for (no timing involved), else by what was left
    # when the read began (a lock taken in a script).
    asked = [ms for command in taken if (ms := _expiry_ms(command.args)) is not None]
    shortest = min(asked) if asked else None
    if (shortest is not None and shortest < MIN_LOCK_TTL_MS) or (
        shortest is None and 0 <= held["pttl"] < SCRIPT_LOCK_LEFT_MS
    ):
        lived = (
            f"was given {shortest} ms" if shortest is not None else f"had {held['pttl']} ms left"
        )
        ctx.fail(
            f"The lock {lock(product)} {lived} when its holder began reading the "
            f"database: shorter than a database read can take (at least {MIN_LOCK_TTL_MS} ms "
            "is safe here), so it expires mid-read and the next reader takes it and reads "
            "too. Use px=LOCK_TTL_MS."
        )
    limit = setting(ctx, "LOCK_TTL_MS", 2000)
    if held["pttl"] > limit:
        ctx.fail(
            f"While its holder read the database, {lock(product)} had {held['pttl']} ms left, "
            f"more than LOCK_TTL_MS ({limit} ms): if that holder dies, every reader waits that "
            "long. (px= takes milliseconds, ex= seconds.)"
        )
    # Judged by what the SET asked for: a script's lock is judged by the bounds above only.
    if shortest is not None and shortest < limit:
        ctx.fail(
            f"The lock {lock(product)} was given {shortest} ms, not LOCK_TTL_MS ({limit} ms): "
            "the setting is how long a holder may read before another reader takes over, so a "
            "slow read past the shorter TTL lets a second reader in. Use px=LOCK_TTL_MS."
        )


@check(
    "refill-looks-again",
    "A reader that gets the lock looks at the cache again before reading the database",
    hint=2,
    lesson="The stampede",
)
@_names_misplaced_lock
def refill_looks_again(ctx: CheckContext) -> None:
    product = "P938"
    ctx.use_keys(key(product), lock(product))
    expected = catalogue_record(product)

    def another_reader_finishes():
        # Right after this reader's miss, another one refills the entry and releases its lock.
        ctx.server.set(key(product), json.dumps(expected), ex=300)

    client = racing_client(ctx)
    client.race, client.watched = another_reader_finishes, key(product)
    db = ctx.database()
    function = ctx.implementation(GET)
    try:
        result = function(client, db, product)
    except NotImplementedError:
        ctx.fail(f"{GET}() is not written yet: fill in the TODOs.")
    except Exception as error:
        ctx.fail(f"{GET}() raised {type(error).__name__}: {error}")
    finally:
        client.close()
    if db.get_calls:
        ctx.fail(
            f"{GET}() missed; before it took the lock another reader cached {key(product)} "
            "and released its lock (simulated here). Holding the lock, it read the database "
            "again anyway: one database read per latecomer. Look at the cache once more after "
            "taking the lock."
        )
    if result != expected:
        ctx.fail(
            f"{GET}() found the entry another reader had just cached and returned {result!r}; "
            f"expected the record {expected!r}."
        )
    if ctx.server.exists(lock(product)):
        ctx.fail(
            f"{GET}() took the lock, found on its second look the entry another reader had "
            f"just cached, and returned with its lock {lock(product)} still held "
            f"({ctx.server.pttl(lock(product))} ms left): once the entry is evicted, every "
            "reader waits for a holder that is gone. Release the lock on every way out of the "
            "locked part (the second look included): a finally: block."
        )


#: Commands that can release a lock (a compare-and-delete script, or a delete).
RELEASE_COMMANDS = frozenset(
    {"EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "DEL", "UNLINK", "DELIFEQ"}
)


def _is_store(name, args, cache):
    """Whether a command writes the entry ``cache`` (SET and kin, or a script naming it)."""
    stores = {"SET", "SETEX", "PSETEX", "SETNX", "EVAL", "EVALSHA", "FCALL"}
    return name in stores and cache in map(str, args[1:])


@check(
    "lock-released",
    "The lock holder releases the lock when done",
    hint=3,
    lesson="The stampede",
)
@_names_misplaced_lock
def lock_released(ctx: CheckContext) -> None:
    product = "P932"
    ctx.use_keys(key(product), lock(product))
    ctx.call(GET, ctx.client, ctx.database(), product)
    sent = inspect.commands(ctx.learner_calls())
    stores = [i for i, (name, args, _) in enumerate(sent) if _is_store(name, args, key(product))]
    on_lock = [i for i, (_, args, _) in enumerate(sent) if lock(product) in map(str, args[1:])]
    releases = [i for i in on_lock[1:] if sent[i][0] in RELEASE_COMMANDS]  # after the taking
    if stores and releases and releases[0] < stores[0]:
        ctx.fail(
            f"The lock holder released the lock ({sent[releases[0]][0]}) before it cached the "
            f"record ({sent[stores[0]][0]} {key(product)}): in between, the lock is gone and the "
            "entry still missing, so a waiter that looks then takes the lock and reads the "
            "database again. Cache the record first, then release the lock."
        )
    if ctx.server.exists(lock(product)):
        ttl = ctx.server.pttl(lock(product))
        ctx.fail(
            f"After refilling {key(product)}, the lock {lock(product)} is still there "
            f"({ttl} ms left): if the entry is evicted meanwhile, the next readers wait for "
            "nothing. Release the lock (only your own) when done."
        )


@check(
    "waits-for-holder",
    "A reader that finds the lock taken waits for the holder's result",
    hint=2,
    lesson="The stampede",
)
@_names_misplaced_lock
def waits_for_holder(ctx: CheckContext) -> None:
    """Another app server holds the lock until the learner's reader has looked at the cache
    BUSY_LOOKS times (only a loop without a sleep gets there soon) or HOLD_SECONDS have
    passed, whichever comes first; then it caches the record and releases the lock. A reader
    that sleeps WAIT_SECONDS between looks makes at most LOOKS_PER_SLEEP looks per sleep in
    that time, however loaded the machine (load only makes it look less often)."""
    product = "P933"
    ctx.use_keys(key(product), lock(product))
    ctx.server.set(lock(product), OTHER_HOLDER, px=5000)
    expected = catalogue_record(product)
    looks, busy, released = [], threading.Event(), {}

    def count_looks(sent, _reply):
        if _reads_key(sent, key(product)) and "at" not in released:
            looks.append(sent)
            if len(looks) >= BUSY_LOOKS:
                busy.set()

    started = time.perf_counter()

    def other_app_server():
        busy.wait(HOLD_SECONDS)
        released["at"] = time.perf_counter()
        ctx.server.set(key(product), json.dumps(expected), ex=300)
        ctx.server.delete(lock(product))

    filler = threading.Thread(target=other_app_server, daemon=True)
    db = ctx.database()
    with _after_each_round_trip(ctx.client, count_looks):
        filler.start()
        result = ctx.call(GET, ctx.client, db, product)
    filler.join(STUCK_SECONDS)
    if db.get_calls:
        ctx.fail(
            f"While another reader held {lock(product)} and was reading the database, "
            f"{GET}() read the database too ({db.get_calls} call). Wait, then read the cache."
        )
    wait = getattr(ctx.exercise, "WAIT_SECONDS", 0.02)
    wait = wait if isinstance(wait, (int, float)) and not isinstance(wait, bool) else 0.02
    wait = max(float(wait), MIN_WAIT_SECONDS)
    held = released.get("at", time.perf_counter()) - started
    allowed = LOOKS_PER_SLEEP * int(held / wait) + 2
    if len(looks) > allowed:
        ctx.fail(
            f"While another reader held the lock for {held * 1000:.0f} ms, {GET}() looked at "
            f"the cache {len(looks)} times; a reader that sleeps WAIT_SECONDS "
            f"({wait * 1000:g} ms) between looks makes at most {allowed} in that time (a "
            f"few looks per sleep): a busy "
            "loop that keeps the server (and a CPU) busy for nothing. Sleep WAIT_SECONDS "
            "between looks."
        )
    if result != expected:
        ctx.fail(
            f"While another reader held the lock, {GET}() returned {result!r}; expected the "
            f"record that reader cached, {expected!r}. Poll the cache until it appears."
        )


@check(
    "waits-while-holder-lives",
    "A reader keeps waiting as long as the lock's holder lives, however slow its database read",
    hint=2,
    lesson="The stampede",
)
@_names_misplaced_lock
def waits_while_holder_lives(ctx: CheckContext) -> None:
    """Another app server holds the lock, alive (seconds left on it), while its database read
    takes long: the learner's reader must wait it out, not give up after so many looks and
    read the database itself (the stampede again) or return None. The reader's WAIT_SECONDS
    is shortened meanwhile, so LIVE_HOLDER_LOOKS looks take a moment, not seconds."""
    product = "P929"
    ctx.use_keys(key(product), lock(product))
    ctx.server.set(lock(product), OTHER_HOLDER, px=5000)
    expected = catalogue_record(product)
    looks, enough, released = [], threading.Event(), {}

    def count_looks(sent, _reply):
        if _reads_key(sent, key(product)):
            looks.append(sent)
            if len(looks) >= LIVE_HOLDER_LOOKS:
                enough.set()

    def slow_holder():
        enough.wait(LIVE_HOLDER_SECONDS)
        released["after"] = len(looks)
        ctx.server.set(key(product), json.dumps(expected), ex=300)
        ctx.server.delete(lock(product))

    holder = threading.Thread(target=slow_holder, daemon=True)
    db = ctx.database()
    had_wait = hasattr(ctx.exercise, "WAIT_SECONDS")
    saved_wait = getattr(ctx.exercise, "WAIT_SECONDS", None)
    ctx.exercise.WAIT_SECONDS = FAST_WAIT_SECONDS
    try:
        with _after_each_round_trip(ctx.client, count_looks):
            holder.start()
            result = ctx.call(GET, ctx.client, db, product)
    finally:
        if had_wait:
            ctx.exercise.WAIT_SECONDS = saved_wait
        else:
            del ctx.exercise.WAIT_SECONDS
    gave_up = "after" not in released  # the reader returned while the holder still held
    holder.join(STUCK_SECONDS)
    alive = (
        f"Another reader held {lock(product)}, alive (seconds left on its lock), while its "
        f"database read took long; after {len(looks)} looks at the cache"
    )
    if gave_up and db.get_calls:
        ctx.fail(
            f"{alive}, {GET}() stopped waiting and read the database itself ({db.get_calls} "
            "call): with many readers waiting on a slow read, that is the stampede again. Keep "
            "waiting while the lock is there; take it only once it is gone."
        )
    if gave_up:
        ctx.fail(
            f"{alive}, {GET}() stopped waiting and returned {result!r}: the product exists and "
            "its record was on the way. Keep waiting while the lock is there."
        )
    if result != expected:
        ctx.fail(
            f"Once the slow holder cached the record and let go, {GET}() returned {result!r}; "
            f"expected {expected!r}."
        )


#: Looks at the cache after which the live holder of waits-while-holder-lives lets go (a
#: reader that gives up after 10 or 25 looks is still caught), and the most it holds on.
LIVE_HOLDER_LOOKS = 60
LIVE_HOLDER_SECONDS = 0.15
#: WAIT_SECONDS while a live holder holds on: the same looks, a twentieth of the time.
FAST_WAIT_SECONDS = 0.001


#: Looks at the cache one sleep may come with: a loop that reads the entry after its sleep
#: and again at its top (then takes the lock) waits as it should; only a loop that does not
#: sleep looks hundreds of times.
LOOKS_PER_SLEEP = 3
#: Looks at the cache after which the other holder of waits-for-holder lets go: a reader that
#: sleeps WAIT_SECONDS (20 ms) needs 100 / 3 times 20 ms for them, longer than HOLD_SECONDS.
BUSY_LOOKS = 100
#: The longest the other holder keeps the lock in waits-for-holder: what every right answer
#: waits. Ten sleeps of 20 ms allow 32 looks; a loop without a sleep makes hundreds in that
#: time even on a loaded machine (a round trip on loopback takes well under 1 ms).
HOLD_SECONDS = 0.2
#: The shortest sleep between looks counted as waiting (a WAIT_SECONDS below it is a busy loop).
MIN_WAIT_SECONDS = 0.002


def _reads_key(sent, wanted):
    """Whether a round trip (a command's arguments, or a pipeline's batch) reads ``wanted``:
    GET, GETEX, MGET, EXISTS, or a script handed the key."""
    batch = sent.commands if hasattr(sent, "commands") else (sent,)
    for args in batch:
        name = str(args[0]).upper()
        names = {a.decode(errors="replace") if isinstance(a, bytes) else str(a) for a in args[1:]}
        if wanted in names and (
            name in {"GET", "GETEX", "MGET", "EXISTS"} or name in inspect.SCRIPT_COMMANDS
        ):
            return True
    return False


@contextlib.contextmanager
def _after_each_round_trip(client, hook):
    """While inside: hook(sent, reply) runs right after each round trip of ``client`` or one
    of its pipelines is logged (``sent`` is the command's arguments, or the pipeline's batch;
    ``reply`` what the server answered)."""
    log = client.call_log
    original = log._raw

    class Watched(list):
        def append(self, item):
            super().append(item)
            hook(item[0], item[1])

    watched = Watched(original)
    log._raw, log.append = watched, watched.append
    try:
        yield
    finally:
        original[:] = list(watched)
        log._raw, log.append = original, original.append


@contextlib.contextmanager
def _gone_after_first_refusal(ctx, name):
    """While inside: the key `name` (a dead holder's lock) is deleted right after the
    learner's first SET ... NX (or SETNX) on it is refused, as if it expired while the reader
    waits.
    Whatever the learner's reader sends next meets a lock that is gone, on any machine load
    (waiting for a TTL leaves that to the scheduler)."""
    done = False

    def watching(args, reply):
        nonlocal done
        if not done and _refused_lock(args, reply, name):
            done = True
            ctx.server.delete(name)

    with _after_each_round_trip(ctx.client, watching):
        yield


def _lone_waiter_takes_the_lock(ctx):
    """One reader finds a dead holder's lock; it vanishes while the reader waits. The reader
    must take the lock itself before it reads the database."""
    product = "P937"
    ctx.use_keys(key(product), lock(product))
    # A short TTL too: a lock taken inside a pipeline or a script is not seen by the hook,
    # and then the lock expires by itself.
    ctx.server.set(lock(product), OTHER_HOLDER, px=300)
    held = {}

    def look_at_the_lock(product_id):
        held["value"] = ctx.server.get(lock(product_id))

    with _gone_after_first_refusal(ctx, lock(product)):
        ctx.call(GET, ctx.client, SlowDatabase(0.005, on_read=look_at_the_lock), product)
    if "value" in held and held["value"] is None:
        ctx.fail(
            f"A reader found {lock(product)} held by a process that died; the lock went away "
            f"while the reader waited, and the reader then read the database without the "
            "lock: with many waiters, each does. A waiter that finds the lock gone and the "
            "entry still missing must take the lock itself (SET NX PX) before reading the "
            "database, so that only one of them does."
        )


class _DeadHolderScene:
    """The readers of orphaned-lock, watched round trip by round trip on the client they share.

    Two moments come from what the readers do, not from a clock, so that they hold on any
    machine load and cost no fixed wait:

    - the dead holder's lock vanishes (as if it expired) once every reader has been refused
      it (a ``SET ... NX`` answered nil); a lock taken inside a pipeline or a script is not
      seen here, and then the lock's own TTL ends it;
    - a database read lasts until every other reader still waiting has looked at the server
      again, so each of them meets the cache still empty and the lock gone or retaken: a
      waiter that then reads the database without the lock is seen reading (with a quick
      read, one in CI refilled before the others looked, and a wrong answer passed). The read
      ends after ``max_read_seconds`` anyway (code whose readers use a client of their own).
    """

    def __init__(self, ctx, lock_name, readers, max_read_seconds):
        self.ctx, self.lock_name, self.readers = ctx, lock_name, readers
        self.max_read_seconds = max_read_seconds
        self.changed = threading.Condition()
        self.looks = {}  # reader thread -> round trips so far
        self.refused = set()  # reader threads refused the dead holder's lock
        self.returned = set()  # reader threads whose call has ended
        self.lock_gone = False

    def after_round_trip(self, sent, reply):
        me = threading.get_ident()
        with self.changed:
            self.looks[me] = self.looks.get(me, 0) + 1
            if not self.lock_gone and _refused_lock(sent, reply, self.lock_name):
                self.refused.add(me)
                if len(self.refused) >= self.readers:
                    self.lock_gone = True
                    self.ctx.server.delete(self.lock_name)
            self.changed.notify_all()

    def reader_returned(self):
        with self.changed:
            self.returned.add(threading.get_ident())
            self.changed.notify_all()

    def read_lasts_until_others_looked(self, _product_id):
        me = threading.get_ident()
        with self.changed:
            start = dict(self.looks)
            waiting = [t for t in start if t != me and t not in self.returned]

            def everyone_looked():
                return all(self.looks.get(t, 0) > start[t] or t in self.returned for t in waiting)

            self.changed.wait_for(everyone_looked, timeout=self.max_read_seconds)


def _refused_lock(sent, reply, lock_name):
    """Whether ``sent`` (a command, or a pipeline's or transaction's batch) was a SET ... NX
    or SETNX of ``lock_name`` that the server refused (nil, or SETNX's 0)."""
    if hasattr(sent, "commands"):
        replies = reply if isinstance(reply, list) else []
        if len(replies) != len(sent.commands):
            return False
        return any(
            _refused_lock(args, answer, lock_name)
            for args, answer in zip(sent.commands, replies, strict=True)
        )
    if not isinstance(sent, tuple) or len(sent) < 3 or str(sent[1]) != lock_name:
        return False
    words = [str(arg).upper() for arg in sent]
    if words[0] == "SETNX":
        return reply in (0, False)
    return words[0] == "SET" and "NX" in words[3:] and reply is None


class _ReadWaitsDatabase(ProductDatabase):
    """The product database whose every read first runs ``before_read(product_id)``."""

    def __init__(self, before_read):
        super().__init__(latency_seconds=0.0)
        self.before_read = before_read

    def get_product(self, product_id):
        self.before_read(product_id)
        return super().get_product(product_id)


@check(
    "orphaned-lock",
    f"A lock whose holder died expires, and one of {READERS} waiting readers refills the entry",
    hint=2,
    lesson="The stampede",
)
@_names_misplaced_lock
def orphaned_lock(ctx: CheckContext) -> None:
    _lone_waiter_takes_the_lock(ctx)
    product = "P934"
    ctx.use_keys(key(product), lock(product))
    # The lock's own TTL ends it only where the readers take it out of sight (see
    # _DeadHolderScene); otherwise it goes once all of them were refused it.
    orphan_ms = 150
    ctx.server.set(lock(product), OTHER_HOLDER, px=orphan_ms)
    scene = _DeadHolderScene(ctx, lock(product), READERS, max_read_seconds=0.2)
    db = _ReadWaitsDatabase(scene.read_lasts_until_others_looked)
    started = time.perf_counter()
    stuck = (
        f"A reader found {lock(product)} held by a process that died; the lock expired, "
        f"yet the reader was still waiting {STUCK_SECONDS:g} s later. When the "
        "lock is gone and the entry is still missing, take the lock and read the database."
    )
    with _after_each_round_trip(ctx.client, scene.after_round_trip):
        results = run_readers(
            ctx, db, product, READERS, stuck=stuck, on_return=scene.reader_returned
        )
    waited = time.perf_counter() - started
    expected = catalogue_record(product)
    wrong = [result for result in results if result != expected]
    if wrong:
        ctx.fail(
            f"{len(wrong)} of {READERS} readers found {lock(product)} held by a process that "
            f"died (then the lock expired) and returned {wrong[0]!r}: once the "
            "lock is gone, take it and read the database yourself."
        )
    if db.get_calls > 1:
        ctx.fail(
            f"{READERS} readers waited for a dead holder's lock; when it "
            f"expired the database was read {db.get_calls} times: a waiter that finds the lock "
            "gone and the entry still missing must take the lock itself (SET NX PX) before "
            "reading the database, so that only one of them does."
        )
    if db.get_calls != 1:
        ctx.fail(
            f"After the dead holder's lock expired, the database was read {db.get_calls} times."
        )
    ctx.note(f"Waited {waited * 1000:.0f} ms for a dead holder's lock to go.")


@check(
    "only-owner-releases",
    "A reader deletes the lock only while it still holds it",
    hint=3,
    lesson="The stampede",
)
@_names_misplaced_lock
def only_owner_releases(ctx: CheckContext) -> None:
    product = "P935"
    ctx.use_keys(key(product), lock(product))
    seen = {}

    def lock_expires_and_is_retaken(product_id):
        # The holder's read is slow: its lock runs out and another reader takes it over.
        seen["lock"] = ctx.server.get(lock(product_id))
        ctx.server.set(lock(product_id), OTHER_HOLDER, px=5000)

    db = SlowDatabase(0.005, on_read=lock_expires_and_is_retaken)
    ctx.call(GET, ctx.client, db, product)
    if seen.get("lock") is None:
        ctx.fail(
            f"{GET}() read the database without holding {lock(product)}: take the lock with "
            "SET NX PX first."
        )
    if ctx.server.get(lock(product)) != OTHER_HOLDER:
        ctx.fail(
            f"While {GET}() read the database, its lock expired and another reader took "
            f"{lock(product)}; when done, {GET}() deleted that other reader's lock, so a "
            "third reader can now go to the database too. Delete the lock only if it still "
            "holds your token, in one step (a Lua script, or DELIFEQ on Valkey 9)."
        )


@check(
    "release-in-one-step",
    "The lock is compared and deleted in one step on the server",
    hint=3,
    lesson="The stampede",
)
@_names_misplaced_lock
def release_in_one_step(ctx: CheckContext) -> None:
    product = "P937"
    ctx.use_keys(key(product), lock(product))

    def lock_expires_and_is_retaken():
        ctx.server.set(lock(product), OTHER_HOLDER, px=5000)

    client = racing_client(ctx)
    client.race, client.watched = lock_expires_and_is_retaken, lock(product)
    try:
        function = ctx.implementation(GET)
        try:
            function(client, ctx.database(), product)
        except NotImplementedError:
            ctx.fail(f"{GET}() is not written yet: fill in the TODOs.")
        except valkey.WatchError:
            pass  # WATCH saw the lock change hands: not deleting it is right
        except Exception as error:
            ctx.fail(f"{GET}() raised {type(error).__name__}: {error}")
        raced = client.race is None
        sent = client.call_log.records(0)
    finally:
        client.close()
    bare = [
        c
        for c in inspect.on_key(sent, lock(product), {"DEL", "UNLINK"})
        if not (c.call.batch is not None and c.call.batch.transaction)
    ]
    if not raced and bare:
        ctx.fail(
            f"{GET}() released {lock(product)} with a bare {bare[0].name}, without comparing "
            "its token: had the lock expired and been taken by another reader meanwhile, that "
            f"{bare[0].name} would remove the other reader's lock. Compare and delete in one "
            "step: client.eval(RELEASE_LOCK, 1, lock_key(product_id), token)."
        )
    if raced and ctx.server.get(lock(product)) != OTHER_HOLDER:
        ctx.fail(
            f"{GET}() read {lock(product)} to see whether it still held it, and deleted it in "
            "a second command. In between (simulated here) the lock expired and another reader "
            "took it, so the DEL removed that reader's lock. Compare and delete in one step: "
            "client.eval(RELEASE_LOCK, 1, lock_key(product_id), token)."
        )


@check(
    "lock-released-on-error",
    "A database error releases the lock and is not cached as a missing product",
    hint=3,
    lesson="Negative caching",
)
@_names_misplaced_lock
def lock_released_on_error(ctx: CheckContext) -> None:
    product = "P936"
    ctx.use_keys(key(product), lock(product))
    db = SlowDatabase(0.005, fail_with=ConnectionError("the database is unreachable"))
    function = ctx.implementation(GET)
    returned, reached_caller = None, False
    try:
        returned = function(ctx.client, db, product)
    except NotImplementedError:
        ctx.fail(f"{GET}() is not written yet: fill in the TODOs in {ctx.exercise_file.name}.")
    except ConnectionError:
        reached_caller = True  # right: the caller learns the database is down
    except Exception as error:
        ctx.fail(f"{GET}() raised {type(error).__name__}: {error} when the database failed.")
    if ctx.server.exists(key(product)):
        ctx.fail(
            f"The database failed (ConnectionError) and {GET}() cached {key(product)} = "
            f"{ctx.server.get(key(product))!r}: an outage is now remembered as a missing "
            "product. Cache a miss only when the database answered None."
        )
    if ctx.server.exists(lock(product)):
        ctx.fail(
            f"The database raised, and {lock(product)} was left behind: every reader of this "
            "product now waits for the lock's TTL. Release it in a finally: block."
        )
    if not reached_caller:
        ctx.fail(
            f"The database raised ConnectionError and {GET}() returned {returned!r}: the "
            "caller cannot tell an outage from a missing product. Let the error propagate."
        )


class SimulatedCrash(BaseException):
    """The reader dies inside its database read: a BaseException, as KeyboardInterrupt,
    SystemExit or a worker's timeout are, so ``except Exception`` does not run for it."""


@check(
    "lock-released-on-crash",
    "A crash inside any database read releases the lock and caches nothing",
    hint=3,
    lesson="The stampede",
)
@_names_misplaced_lock
def lock_released_on_crash(ctx: CheckContext) -> None:
    """A miss, with the database call crashing at each of the calls a normal miss makes, in
    turn: the crash reaches the caller, nothing is cached and the lock is gone, so the next
    reader refills the entry at once instead of waiting LOCK_TTL_MS for a dead holder."""
    function = ctx.implementation(GET)
    product = "P939"
    ctx.use_keys(key(product), lock(product))
    counting = ctx.database(latency_seconds=0)
    ctx.call(GET, ctx.client, counting, product)
    calls = len(counting.calls)
    if not calls:
        ctx.fail(f"On a miss for {product}, {GET}() never read the database.")
    for position in range(1, calls + 1):
        ctx.server.delete(key(product), lock(product))
        db = ctx.database(latency_seconds=0, faults={position: SimulatedCrash("crashed")})
        what = f"On a miss for {product}, database call {position} of {calls} crashed"
        try:
            returned = function(ctx.client, db, product)
        except SimulatedCrash:
            pass  # right: a crash is not an answer
        except NotImplementedError:
            ctx.fail(f"{GET}() is not written yet: fill in the TODOs in {ctx.exercise_file.name}.")
        except Exception as error:
            ctx.fail(f"{what} and {GET}() raised {describe_exception(error, ctx.exercise_file)}.")
        else:
            ctx.fail(
                f"{what} (a BaseException, as KeyboardInterrupt or SystemExit are) and {GET}() "
                f"returned {returned!r}: it caught the crash (a bare except: or except "
                "BaseException:) and answered as if the database had. Let it through; "
                "release the lock in a finally: block instead."
            )
        if ctx.server.exists(key(product)):
            ctx.fail(
                f"{what}, and {GET}() cached {key(product)} = "
                f"{ctx.server.get(key(product))!r}: the database never answered. Cache only "
                "what the database returned."
            )
        if ctx.server.exists(lock(product)):
            ctx.fail(
                f"{what} (a BaseException, as KeyboardInterrupt, SystemExit or a worker's "
                f"timeout are), and {lock(product)} was left behind with "
                f"{ctx.server.pttl(lock(product))} ms to go: every reader of this product now "
                "waits for a holder that is gone. except Exception: does not run for a crash; "
                "release the lock in a finally: block, which runs on every way out."
            )


class RacingClient(TimedValkey):
    """The learner's client, with another writer that gets in right after the first read of
    the watched key (the moment a read-compare-write is most exposed)."""

    race = None
    watched = None

    def _send_command_parse_response(self, conn, command_name, *args, **options):
        reply = super()._send_command_parse_response(conn, command_name, *args, **options)
        race_after_read(self, args)
        return reply

    def pipeline(self, transaction=True, shard_hint=None):
        pipe = RacingPipeline(
            self.connection_pool,
            self.response_callbacks,
            transaction,
            shard_hint,
            call_log=self.call_log,
        )
        pipe.owner = self
        return pipe


class RacingPipeline(TimedPipeline):
    owner = None

    def _send_command_parse_response(self, conn, command_name, *args, **options):
        reply = super()._send_command_parse_response(conn, command_name, *args, **options)
        race_after_read(self.owner, args)
        return reply


def race_after_read(client, args):
    if client is None or client.race is None or not args:
        return
    if str(args[0]).upper() in {"GET", "MGET", "GETEX"} and client.watched in map(str, args[1:]):
        race, client.race = client.race, None
        race()


def racing_client(ctx):
    pool = valkey.ConnectionPool.from_url(ctx.url, decode_responses=True)
    client = RacingClient(connection_pool=pool, call_log=CallLog())
    _OTHER_CALL_LOGS.append(client.call_log)
    return client


#: The call logs of the clients the checks made besides ctx.client (racing_client), so that
#: a judgement over everything the learner's code sent sees their round trips too.
_OTHER_CALL_LOGS = []


def versioned(product_id, version, price):
    return {**catalogue_record(product_id), "price": price, "version": version}


@check(
    "if-newer",
    "cache_if_newer() stores a record only over an older version (or none)",
    hint=3,
    lesson="The race cache-aside leaves open",
)
def if_newer(ctx: CheckContext) -> None:
    product = "P940"
    cache = key(product)
    ctx.use_keys(cache)

    def cached():
        raw = ctx.server.get(cache)
        try:
            return json.loads(raw) if raw is not None else None
        except ValueError:
            ctx.fail(f"{cache} holds {raw[:60]!r}, not JSON. Store json.dumps(record).")

    v2 = versioned(product, 2, 20.0)
    stored = ctx.call(IF_NEWER, ctx.client, v2)
    if stored is not True or cached() != v2:
        ctx.fail(
            f"With nothing cached, {IF_NEWER}(version 2) returned {stored!r} and the cache holds "
            f"{cached()!r}; expected True and the record."
        )
    low, high = ttl_bounds(ctx)
    ttl = ctx.server.ttl(cache)
    if not low - 1 <= ttl <= high:
        ctx.fail(f"{IF_NEWER}() cached {cache} with a TTL of {ttl}; expected {low}..{high}.")
    v3 = versioned(product, 3, 30.0)
    stored = ctx.call(IF_NEWER, ctx.client, v3)
    if stored is not True or cached() != v3:
        ctx.fail(
            f"Over version 2, {IF_NEWER}(version 3) returned {stored!r} and the cache holds "
            f"{cached()!r}; a newer version must replace an older one (True)."
        )
    # Version 0 too: a test like `if not version` lets it through as if it had none.
    for older in (
        versioned(product, 1, 10.0),
        versioned(product, 0, 1.0),
        versioned(product, 3, 33.0),
    ):
        stored = ctx.call(IF_NEWER, ctx.client, older)
        same = "the same version" if older["version"] == 3 else "an older version"
        if stored is not False and cached() == v3:
            ctx.fail(
                f"Over version 3, {IF_NEWER}() of {same} ({older['version']}) left the cache "
                f"alone, rightly, but returned {stored!r}: the caller learns it was stored. "
                "Return False when nothing was stored (True only for a write that happened)."
            )
        if stored is not False or cached() != v3:
            ctx.fail(
                f"Over version 3, {IF_NEWER}() of {same} ({older['version']}) returned "
                f"{stored!r} and the cache now holds {cached()!r}: a late writer put back data "
                "that is not newer. Store only a strictly higher version; return False otherwise."
            )
    ctx.server.set(cache, json.dumps(None), ex=30)
    stored = ctx.call(IF_NEWER, ctx.client, v2)
    if stored is not True or cached() != v2:
        ctx.fail(
            f"Over a remembered miss ({cache} = 'null'), {IF_NEWER}(version 2) returned "
            f"{stored!r}; a record beats a remembered miss."
        )
    # Versions across a digit boundary (9 → 10, 99 → 100, ...): compared as text, "10" < "9".
    for low, high in _digit_boundaries(ctx):
        for cached_version, offered, newer in ((low, high, True), (high, low, False)):
            ctx.server.set(cache, json.dumps(versioned(product, cached_version, 1.0)), ex=300)
            record = versioned(product, offered, 2.0)
            stored = ctx.call(IF_NEWER, ctx.client, record)
            want = record if newer else versioned(product, cached_version, 1.0)
            if stored is not newer or cached() != want:
                scripted = any(
                    name in inspect.SCRIPT_COMMANDS
                    for name, _args, _call in inspect.commands(ctx.learner_calls())
                )
                how = "tonumber() in your Lua script" if scripted else "int() in Python"
                ctx.fail(
                    f"Over version {cached_version}, {IF_NEWER}(version {offered}) returned "
                    f"{stored!r} and the cache holds version {(cached() or {}).get('version')}: "
                    f"{offered} is {'newer' if newer else 'older'}, but as text "
                    f"'{offered}' {'<' if newer else '>'} '{cached_version}'. Compare versions "
                    f"as numbers ({how}), not as strings."
                )


#: How many records the if-newer-spread check stores, and the least spread of the TTLs they
#: were given (ms, each read at once) that shows jitter: a fixed TTL differs only by the round
#: trip between the store and the read. expiries-spread uses the same bound.
SPREAD_RECORDS = 12
SPREAD_MIN_MS = 500


@check(
    "if-newer-spread",
    "Records cache_if_newer() stores together get different TTLs (jitter)",
    hint=1,
    lesson="TTL jitter",
)
def if_newer_spread(ctx: CheckContext) -> None:
    """Generated products stored by cache_if_newer one after another: the times to live they
    were given (each read at once) must spread by at least half a second, as ttl_with_jitter
    gives; a fixed TTL makes them expire together. (Expiry moments, the time of the store
    plus its PTTL, spread by the loop's length too: under load a fixed TTL looked spread.)"""
    products = [ctx.product_id() for _ in range(SPREAD_RECORDS)]
    ctx.use_keys(*(key(p) for p in products))
    asked = []
    for number, product in enumerate(products, start=1):
        record = {**ctx.products[product], "version": number}
        ctx.call(IF_NEWER, ctx.client, record)
        ttl_ms = _asked_ttl_ms(ctx, key(product))
        if ttl_ms is None:
            return  # not stored, or without a TTL: the check if-newer names that
        asked.append(ttl_ms)
    spread = max(asked) - min(asked)
    if spread < SPREAD_MIN_MS:
        ttls = sorted({_seconds(ttl_ms) for ttl_ms in asked})
        ctx.fail(
            f"{IF_NEWER}() stored {SPREAD_RECORDS} records one after another, and their TTLs "
            f"lie within {spread:.0f} ms of each other ({', '.join(map(str, ttls))} s): a fixed "
            "TTL, so they expire together and the database takes every miss at once. Store with "
            "ttl_with_jitter(CACHE_TTL_SECONDS, TTL_SPREAD_SECONDS) here too."
        )


def _digit_boundaries(ctx):
    """Pairs of versions on either side of a digit boundary: 9/10, 99/100 and one drawn."""
    digits = ctx.random.randint(3, 6)
    drawn = 10**digits
    return [
        (9, 10),
        (99, 100),
        (drawn - ctx.random.randint(1, 9), drawn + ctx.random.randint(0, 9)),
    ]


@check(
    "if-newer-atomic",
    "cache_if_newer() compares and writes in one step: a writer in between is not overwritten",
    hint=3,
    lesson="The race cache-aside leaves open",
)
def if_newer_atomic(ctx: CheckContext) -> None:
    product = "P941"
    cache = key(product)
    ctx.use_keys(cache)
    ctx.server.set(cache, json.dumps(versioned(product, 1, 10.0)), ex=300)
    newest = versioned(product, 5, 50.0)

    def another_writer():
        ctx.server.set(cache, json.dumps(newest), ex=300)

    late = versioned(product, 2, 20.0)
    stored, raced, gave_up = _race(ctx, cache, late, another_writer)
    now = _cached_record(ctx, cache)
    if raced and now != newest:
        ctx.fail(
            f"{IF_NEWER}() read {cache} (version 1), then another writer stored version 5, then "
            f"{IF_NEWER}() wrote version 2 over it: the cache went back in time. Compare and "
            "write in one step: a Lua script, WATCH/MULTI/EXEC, or SET ... IFEQ (Valkey 8.1+)."
        )
    if now not in (newest, late):
        ctx.fail(f"After {IF_NEWER}(version 2) over version 1, the cache holds {now!r}.")
    if gave_up:
        ctx.fail(
            f"{IF_NEWER}(version 2) read version 1, another writer stored version 5 in between, "
            f"and the WatchError reached the caller: {IF_NEWER}() must compare again and "
            "return False (version 5 is newer), not fail. Catch WatchError and try again."
        )
    if raced and stored is not False:
        ctx.fail(
            f"Another writer stored version 5 while {IF_NEWER}(version 2) ran; the cache kept "
            f"version 5, yet {IF_NEWER}() returned {stored!r}: it stored nothing, so False."
        )
    # A lower version written in between: the record asked for is still newer and must win.
    ctx.server.set(cache, json.dumps(versioned(product, 1, 10.0)), ex=300)
    lower = versioned(product, 2, 20.0)
    newer = versioned(product, 3, 30.0)
    stored, raced, gave_up = _race(
        ctx, cache, newer, lambda: ctx.server.set(cache, json.dumps(lower), ex=300)
    )
    now = _cached_record(ctx, cache)
    if raced and now == lower:
        how = "the WatchError reached the caller" if gave_up else f"it returned {stored!r}"
        ctx.fail(
            f"{IF_NEWER}(version 3) read {cache} (version 1), another writer stored version 2 "
            f"in between, and {IF_NEWER}() gave up ({how}): version 2 stays cached although "
            f"version 3 is newer. {_try_again_words()}"
        )
    if now != newer or stored is not True or gave_up:
        ctx.fail(
            f"{IF_NEWER}(version 3) over version 1, with version 2 written in between, returned "
            f"{'a WatchError' if gave_up else repr(stored)} and left {now!r} cached; expected "
            "True and version 3."
        )

    _race_on_an_empty_key(ctx, product, cache)
    _watch_errors_in_a_row(ctx, product, cache)


def _race_on_an_empty_key(ctx, product, cache):
    """The same two races when the first read finds nothing cached: a plain SET for the empty
    case overwrites a higher version written in between; a SET NX that gives up when it finds
    the key taken leaves a lower one."""
    ctx.server.delete(cache)
    late, newest = versioned(product, 2, 20.0), versioned(product, 5, 50.0)
    stored, raced, _gave_up = _race(
        ctx, cache, late, lambda: ctx.server.set(cache, json.dumps(newest), ex=300)
    )
    now = _cached_record(ctx, cache)
    if raced and now != newest:
        ctx.fail(
            f"{IF_NEWER}(version 2) found {cache} empty, then another writer stored version 5, "
            f"then {IF_NEWER}() wrote version 2 over it (the cache holds {now!r}): an empty key "
            "needs the same one-step compare-and-write (SET ... NX, or the script or "
            "transaction that handles the other case)."
        )
    if raced and stored is not False:
        ctx.fail(
            f"{IF_NEWER}(version 2) found {cache} empty and another writer stored version 5 in "
            f"between; version 5 stayed, yet {IF_NEWER}() returned {stored!r}: it stored "
            "nothing, so False."
        )
    ctx.server.delete(cache)
    lower, newer = versioned(product, 2, 20.0), versioned(product, 3, 30.0)
    stored, raced, gave_up = _race(
        ctx, cache, newer, lambda: ctx.server.set(cache, json.dumps(lower), ex=300)
    )
    now = _cached_record(ctx, cache)
    if raced and (now != newer or stored is not True or gave_up):
        how = "the WatchError reached the caller" if gave_up else f"it returned {stored!r}"
        ctx.fail(
            f"{IF_NEWER}(version 3) found {cache} empty, another writer stored version 2 in "
            f"between, and {IF_NEWER}() gave up ({how}), leaving {now!r} cached: version 3 is "
            f"newer and must be stored. {_try_again_words()}"
        )


#: How many WatchErrors in a row if-newer-atomic makes cache_if_newer meet at most.
WATCH_ERRORS_MAX = 5


def _watch_errors_in_a_row(ctx, product, cache):
    """Several writers in a row, each getting in right after a read of ``cache`` (as many
    WatchErrors): cache_if_newer must still store a record newer than all of them."""

    def trial(in_a_row):
        ctx.server.set(cache, json.dumps(versioned(product, 1, 10.0)), ex=300)
        target = versioned(product, 10, 100.0)
        writes = []

        def one_more_writer():
            version = len(writes) + 2  # 2, 3, ...: each lower than 10
            writes.append(version)
            ctx.server.set(cache, json.dumps(versioned(product, version, 10.0 * version)), ex=300)
            if len(writes) < in_a_row:
                client.race = one_more_writer

        client = racing_client(ctx)
        client.race, client.watched = one_more_writer, cache
        stored, gave_up = None, False
        try:
            try:
                stored = ctx.implementation(IF_NEWER)(client, target)
            except valkey.WatchError:
                gave_up = True
            except Exception as error:
                ctx.fail(f"{IF_NEWER}() raised {type(error).__name__}: {error}")
        finally:
            client.close()
        now = _cached_record(ctx, cache)
        if now == target and stored is True:
            return None
        how = "the WatchError reached the caller" if gave_up else f"it returned {stored!r}"
        return (
            f"{IF_NEWER}(version 10) met {len(writes)} other writers in a row, each storing a "
            f"lower version right after its read (as many WatchErrors), and gave up ({how}), "
            f"leaving {now!r} cached: version 10 is newer than all of them. Try again after "
            "every WatchError, with no fixed limit (a loop until EXEC succeeds, or "
            "client.transaction(fn, key))."
        )

    ctx.search(
        [ctx.random.randint(1, WATCH_ERRORS_MAX), WATCH_ERRORS_MAX],
        trial,
        lambda in_a_row: [in_a_row - 1] if in_a_row > 1 else [],
    )


def _cached_record(ctx, cache):
    raw = ctx.server.get(cache)
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        ctx.fail(f"{cache} holds {raw[:60]!r}, not JSON. Store json.dumps(record).")


def _race(ctx, cache, record, writer):
    """``cache_if_newer(record)`` with ``writer`` run right after its first read of ``cache``:
    (what it returned, whether the writer ran, whether a WatchError reached the caller)."""
    client = racing_client(ctx)
    client.race, client.watched = writer, cache
    stored, gave_up = None, False
    try:
        function = ctx.implementation(IF_NEWER)
        try:
            stored = function(client, record)
        except NotImplementedError:
            ctx.fail(f"{IF_NEWER}() is not written yet: fill in the TODOs.")
        except valkey.WatchError:
            gave_up = True
        except Exception as error:
            ctx.fail(f"{IF_NEWER}() raised {type(error).__name__}: {error}")
        raced = client.race is None
    finally:
        client.close()
        _LAST_RACE_CALLS[:] = client.call_log.records(0)
    return stored, raced, gave_up


#: The round trips of the last _race's cache_if_newer (its own client), for the messages.
_LAST_RACE_CALLS = []


def _try_again_words():
    """How to try again, in the words of what the learner's cache_if_newer used."""
    sent = {name for name, _args, _call in inspect.commands(_LAST_RACE_CALLS)}
    sets = [args for name, args, _ in inspect.commands(_LAST_RACE_CALLS) if name == "SET"]
    if any("IFEQ" in {str(a).upper() for a in args} for args in sets):
        return (
            "When SET ... IFEQ finds the value changed (it answers nil), read again, compare "
            "again and try again (a loop)."
        )
    if any("NX" in {str(a).upper() for a in args} for args in sets):
        return (
            "When SET ... NX finds the key taken (it answers nil), read what is there, compare "
            "again and try again (a loop)."
        )
    if "WATCH" in sent:
        return "After a WatchError, compare again and try again (a loop)."
    return "Compare again and try again until the write succeeds (a loop)."


@check(
    "dropped-connection",
    "A dropped connection reaches the caller of cache_if_newer; ids beyond ASCII work alike",
    hint=3,
    lesson="The race cache-aside leaves open",
)
@_names_misplaced_lock
def dropped_connection(ctx: CheckContext) -> None:
    product = ctx.product_id("unicode")
    cache = key(product)
    ctx.use_keys(cache, lock(product))
    db = ctx.database(latency_seconds=0)
    first = ctx.call(GET, ctx.client, db, product)
    again = ctx.call(GET, ctx.client, db, product)
    ctx.require(
        first == again == ctx.products[product] and db.get_calls == 1,
        f"Two reads of {product!r} returned {first!r} and {again!r} with {db.get_calls} "
        "database reads; expected the record and one read: every id works alike.",
    )
    ctx.require(
        not ctx.server.exists(lock(product)),
        f"After a read of {product!r}, {lock(product)} is still held: every id works alike.",
    )

    unknown = f"NOPE-é-{ctx.run_tag}"
    ctx.use_keys(key(unknown), lock(unknown))
    missing = ctx.call(GET, ctx.client, ctx.database(latency_seconds=0), unknown)
    ctx.require(
        missing is None and ctx.server.get(key(unknown)) == "null",
        f"A read of the unknown product {unknown!r} returned {missing!r} and left "
        f"{ctx.server.get(key(unknown))!r} at {key(unknown)}; expected None and 'null' "
        "remembered: every id works alike.",
    )

    def read(client):
        ctx.server.delete(cache, lock(product))
        return ctx.implementation(GET)(client, ctx.database(latency_seconds=0), product)

    faults.require_failure_reaches_caller(
        ctx,
        f"{GET}()",
        read,
        why="the caller gets data no one read",
        accept=lambda result: result == ctx.products[product],
    )
    record = {**ctx.products[product], "version": 3}

    def store(client):
        ctx.server.delete(cache)
        return ctx.implementation(IF_NEWER)(client, record)

    faults.require_failure_reaches_caller(
        ctx, f"{IF_NEWER}()", store, why="the caller cannot tell whether the record is cached"
    )
