"""Checks for step 02 (cache-aside).

Each clause of the starter's docstrings is a check, and each wrong answer the course names
fails one with its own message: no TTL, str() instead of JSON, a hash instead of a JSON string,
the raw JSON returned, the database read on every call, an entry cached by another server
ignored, something cached for an unknown product, no invalidation, invalidation by flushing or
by KEYS, invalidation before the database write, the new record cached before the database
write, a refresh that drops fields or (with KEEPTTL) leaves an uncached product's entry without
a TTL, a misspelt key deleted, a TTL shortened in place of an invalidation, and an unknown
product's KeyError swallowed. Records shown in messages are cut between fields, marked "…".
"""

import ast
import json

from valkey_workshop.checking import advice, faults, inspect
from valkey_workshop.checking.api import CHANGE_FIELDS, CheckContext, check, describe_exception
from valkey_workshop.labdb import catalogue_record

GET = "get_product_details"
UPDATE = "update_product"
#: Commands that change or remove the cached copy of a product.
KEY_WRITES = {"DEL", "UNLINK", "SET", "SETEX", "PSETEX", "GETDEL", "GETSET"}
READS = {"GET", "GETEX", "MGET", "GETDEL", "HGETALL", "HGET", "HMGET"}
#: Commands that store a value at their first key.
WRITES = {"SET", "SETEX", "PSETEX", "SETNX", "GETSET", "HSET", "HMSET", "RESTORE", "COPY"}


def key(product_id):
    return f"product:{product_id}:details"


def updated(product_id, changes):
    return {**catalogue_record(product_id), **changes}


def shown(text, limit, *, quoted=True):
    """``text`` for a message: cut after the last comma or space within ``limit`` characters,
    and the cut marked with "…", so no number or word is shown half."""
    text = str(text)
    if len(text) <= limit:
        return repr(text) if quoted else text
    head = text[:limit]
    cut = head.rfind(", ")  # between two fields; else between two words
    if cut < limit // 2:
        cut = head.rfind(" ")
    head = head[: cut + 1].rstrip(" ") if cut > 0 else head
    return (repr(head) if quoted else head) + "…"


def deleted_elsewhere(calls, product_id, cache):
    """Keys other than ``cache`` that the learner deleted or expired while naming the product:
    a misspelt key, say, that leaves the real entry in place."""
    found = []
    for name, args, _call in inspect.commands(calls):
        if name in {"DEL", "UNLINK", *inspect.EXPIRY_COMMANDS}:
            for arg in args[1:] if name in {"DEL", "UNLINK"} else args[1:2]:
                if str(arg) != cache and product_id in str(arg) and str(arg) not in found:
                    found.append(str(arg))
    return found


def ttl_limit(ctx):
    value = getattr(ctx.exercise, "CACHE_TTL_SECONDS", 86400)
    return value if isinstance(value, int) and 1 <= value <= 86400 else 86400


def ttl_limit_words(ctx):
    """The TTL bound in words: CACHE_TTL_SECONDS, or a day where the constant is out of range
    (a week's CACHE_TTL_SECONDS is not what the 86400 bound is)."""
    value = getattr(ctx.exercise, "CACHE_TTL_SECONDS", None)
    if value == ttl_limit(ctx):
        return f"CACHE_TTL_SECONDS ({value})"
    return f"a day (86400 s), the most this step allows (CACHE_TTL_SECONDS is {value!r})"


#: What SCAN MATCH and KEYS read as pattern syntax rather than as the character itself.
_GLOB_CHARACTERS = "*?[]\\"


def _cached_elsewhere(ctx, product):
    """Keys that exist and that the learner's code wrote (a changed key name: lowercased,
    stripped, say) or that name the product."""
    written = {
        str(args[1])
        for name, args, _ in inspect.commands(ctx.learner_calls())
        if name in WRITES and len(args) > 1
    }
    pattern = "".join(f"[{char}]" if char in _GLOB_CHARACTERS else char for char in product)
    named = set(ctx.server.scan_iter(match=f"*{pattern}*", count=1000))
    return sorted(found for found in written | named if ctx.server.exists(found))


def _set_only_if_missing(calls, cache):
    """Whether the calls stored ``cache`` with SET ... NX."""
    return any(
        any(inspect.text(arg).upper() == "NX" for arg in command.args[3:])
        for command in inspect.on_key(calls, cache, ("SET",))
    )


def _only_if_missing_words(cache):
    return (
        f"{UPDATE}() stored the new record with SET ... NX, which writes only where the key is "
        f"missing: {cache} was there, so the old record stayed and the next read serves stale "
        "data. Store it without nx (or delete the key)."
    )


def _key_searches(calls):
    """The key patterns the calls searched with (KEYS p, SCAN ... MATCH p), as sent."""
    found = []
    for name, args, _ in inspect.commands(calls):
        words = [inspect.text(arg) for arg in args]
        if name == "KEYS" and len(words) > 1:
            found.append(f"KEYS {words[1]!r}")
        elif name == "SCAN":
            upper = [word.upper() for word in words]
            if "MATCH" in upper and upper.index("MATCH") + 1 < len(words):
                found.append(f"SCAN MATCH {words[upper.index('MATCH') + 1]!r}")
    return found


def _in_milliseconds(ctx, cache):
    """Whether the learner gave ``cache`` its expiry in milliseconds (PX, PSETEX, PEXPIRE)."""
    sent = inspect.on_key(ctx.learner_calls(), cache, {"SET", "PSETEX", "PEXPIRE"})
    return any(c.name != "SET" or "PX" in {str(a).upper() for a in c.args} for c in sent)


def _under_a_second(pttl):
    """Whether a PTTL reply is an expiry under a second away, or one already past (-2)."""
    return pttl == -2 or 0 <= pttl < 1000


def _short_ttl(ctx, cache, pttl):
    left = "has expired already" if pttl == -2 else f"expires in {pttl} ms"
    unit = (
        " px= (PSETEX, PEXPIRE) counts milliseconds: use ex=."
        if _in_milliseconds(ctx, cache)
        else ""
    )
    ctx.fail(
        f"{cache} {left}: the next read would miss again, so the cache saves nothing. Its "
        f"TTL should be CACHE_TTL_SECONDS seconds ({ttl_limit(ctx)}).{unit}"
    )


@check(
    "ttl-setting", "CACHE_TTL_SECONDS is a sensible number of seconds", lesson="Freshness and TTLs"
)
def ttl_setting(ctx: CheckContext) -> None:
    ttl = ctx.setting("CACHE_TTL_SECONDS")
    if isinstance(ttl, bool) or not isinstance(ttl, int):
        ctx.fail(f"CACHE_TTL_SECONDS is {ttl!r}; it should be a whole number of seconds, like 300.")
    if ttl < 1:
        ctx.fail(
            f"CACHE_TTL_SECONDS is {ttl}: Valkey refuses an expiry of 0 or less "
            "('invalid expire time'), and a cache entry needs one."
        )
    if ttl > 86400:
        slip = (
            f" Is it {ttl // 1000} s written in milliseconds? ex= takes seconds."
            if ttl % 1000 == 0 and ttl // 1000 <= 86400
            else ""
        )
        ctx.fail(
            f"CACHE_TTL_SECONDS is {ttl} s, more than a day: a missed invalidation would serve "
            f"stale data that long. Use at most 86400.{slip}"
        )


@check(
    "miss-reads-database-once",
    "A miss reads the database once and returns its record",
    hint=1,
    lesson="The read path",
)
def miss_reads_database_once(ctx: CheckContext) -> None:
    ctx.use_keys(key("P123"))
    db = ctx.database()
    result = advice.call(ctx, GET, ctx.client, db, "P123")
    expected = catalogue_record("P123")
    if db.get_calls == 0:
        ctx.fail(
            f"On a miss, {GET}() never called db.get_product(); it returned {result!r}. "
            "With nothing cached, the record has to come from the database."
        )
    if db.get_calls > 1:
        ctx.fail(f"One miss read the database {db.get_calls} times; once is enough.")
    if isinstance(result, str):
        ctx.fail(
            f"On a miss, {GET}() returned a str ({shown(result, 50)}); return the record as a dict."
        )
    if result != expected:
        ctx.fail(
            f"On a miss, {GET}() returned {result!r}; expected the database's record {expected!r}."
        )


@check(
    "cached-as-json-with-ttl",
    "The record is then cached as JSON, with a TTL",
    hint=2,
    lesson="The read path",
)
def cached_as_json_with_ttl(ctx: CheckContext) -> None:
    product, cache = "P124", key("P124")
    ctx.use_keys(cache)
    advice.call(ctx, GET, ctx.client, ctx.database(), product)
    pttl = ctx.server.pttl(cache)
    if _under_a_second(pttl) and _in_milliseconds(ctx, cache):
        # Named now, before the GET below: a TTL of a few hundred ms can run out between the
        # two on a loaded machine, and "nothing was cached" would hide the unit slip.
        _short_ttl(ctx, cache, pttl)
    kind = ctx.server.type(cache)
    if kind not in ("string", "none"):
        ctx.fail(
            f"{cache} holds a {kind}, not a string. A hash suits reading or updating single "
            "fields; this step caches the whole record as one JSON string "
            "(set(key, json.dumps(record), ex=...)), which every reader decodes the same way."
        )
    raw = ctx.server.get(cache)
    if raw is None:
        elsewhere = _cached_elsewhere(ctx, product)
        if elsewhere:
            ctx.use_keys(*elsewhere)
            ctx.fail(
                f"After a miss nothing was cached at {cache}; found {', '.join(elsewhere)} "
                f"instead. The key must be exactly {cache} (other services read it too)."
            )
        ctx.fail(
            f"After a miss nothing was cached at {cache}: the next read would go to the "
            "database again. Store the record there after reading it."
        )
    try:
        decoded = json.loads(raw)
    except ValueError:
        try:
            ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            ctx.fail(f"The cached value is not JSON: {shown(raw, 60)}. Store json.dumps(record).")
        ctx.fail(
            f"The cached value is Python's str() of the dict ({shown(raw, 48, quoted=False)}), "
            "not JSON: "
            "json.loads and other languages cannot read it back. Store json.dumps(record)."
        )
    expected = catalogue_record(product)
    if decoded != expected:
        ctx.fail(f"The cached JSON holds {decoded!r}; expected the database record {expected!r}.")
    ttl = ctx.server.ttl(cache)
    if ttl == -1:
        ctx.fail(
            f"{cache} has no TTL (TTL answers -1): it never expires, so if an invalidation is "
            "ever missed, stale data is served forever. Set value and TTL in one command: "
            "set(key, value, ex=CACHE_TTL_SECONDS)."
        )
    limit = ttl_limit(ctx)
    if ttl > limit:
        ctx.fail(f"{cache} has a TTL of {ttl} s, longer than {ttl_limit_words(ctx)}.")
    if ctx.server.pttl(cache) < 1000:
        _short_ttl(ctx, cache, ctx.server.pttl(cache))
    window = inspect.ttl_window(ctx.learner_calls(), cache)
    if window:
        ctx.fail(window)


@check(
    "hit-skips-database",
    "A hit returns an equal dict without touching the database",
    hint=1,
    lesson="The read path",
)
def hit_skips_database(ctx: CheckContext) -> None:
    product, cache = "P125", key("P125")
    ctx.use_keys(cache)
    advice.call(ctx, GET, ctx.client, ctx.database(), product)
    # Half the TTL left, as if the entry had been cached a while ago: a hit must leave it so.
    ttl = ctx.setting("CACHE_TTL_SECONDS")
    left_ms = max(500, int(ttl * 500)) if isinstance(ttl, int | float) else 150_000
    ctx.server.pexpire(cache, left_ms)
    db = ctx.database()
    mark = ctx.client.call_log.mark()
    result = advice.call(ctx, GET, ctx.client, db, product)
    after_ms = ctx.server.pttl(cache)
    expected = catalogue_record(product)
    if db.get_calls:
        ctx.fail(
            f"{GET}() read the database on a cache hit ({db.get_calls} call): {cache} was "
            "there but not used, so the cache saves nothing. Return the cached copy when GET "
            "finds one."
        )
    if isinstance(result, str):
        ctx.fail(
            f"On a hit, {GET}() returned the raw JSON string ({shown(result, 48)}). Callers "
            "expect the same dict as on a miss: json.loads it."
        )
    if result != expected:
        ctx.fail(f"On a hit, {GET}() returned {result!r}; expected {expected!r}.")
    reads = inspect.on_key(ctx.client.call_log.records(mark), cache, READS)
    if not reads:
        ctx.fail(
            f"{GET}() answered without asking Valkey or the database: a dict inside your "
            "process is neither shared with other app servers nor invalidated. Read from Valkey."
        )
    if after_ms > left_ms:
        ctx.fail(
            f"A hit moved {cache}'s TTL back up, from {left_ms / 1000:g} s left to "
            f"{after_ms / 1000:.0f} s (GETEX ... EX, or an EXPIRE on read): an entry read often "
            "then never expires, so one whose invalidation was missed stays stale for as long "
            "as it is popular. The TTL bounds staleness only if a hit leaves it alone: plain GET."
        )


@check(
    "unknown-product",
    "An unknown product gives None, without raising, and nothing is cached for it",
    lesson="The read path",
)
def unknown_product(ctx: CheckContext) -> None:
    unknown = "NOPE-404"
    ctx.use_keys(key("P0"), key(unknown), key("None"))
    try:
        result = advice.call(ctx, GET, ctx.client, ctx.database(), unknown)
    except Exception as failure:
        ctx.fail(f"For a product the database does not know: {failure}")
    if result is not None:
        ctx.fail(
            f"{GET}() returned {result!r} for a product the database does not know; return None."
        )
    if ctx.server.exists(key(unknown)):
        what = ctx.server.get(key(unknown)) if ctx.server.type(key(unknown)) == "string" else "?"
        ctx.fail(
            f"{GET}() cached {what!r} at {key(unknown)} for a product the database does not "
            "know. If the product is added later, readers still get None until that entry "
            "expires. Cache only records that exist (negative caching needs its own, short TTL)."
        )


@check(
    "hit-uses-shared-entry",
    "A hit returns what another application server cached",
    hint=1,
    lesson="The read path",
)
def hit_uses_shared_entry(ctx: CheckContext) -> None:
    product, cache = "P130", key("P130")
    ctx.use_keys(cache)
    # Another app server cached this product after a price change (same key, same JSON).
    shared = {**catalogue_record(product), "price": 99.5}
    ctx.server.set(cache, json.dumps(shared), ex=60)
    db = ctx.database()
    result = advice.call(ctx, GET, ctx.client, db, product)
    if db.get_calls:
        ctx.fail(
            f"{cache} was cached by another application server, but {GET}() read the database "
            "anyway: every app server shares the cache, so read the entry it finds in Valkey."
        )
    if result != shared:
        ctx.fail(
            f"{cache} holds {json.dumps(shared)} (cached by another application server); "
            f"{GET}() returned {result!r}. Return json.loads of what GET found."
        )


@check(
    "update-then-fresh-read",
    "After update_product, the next read returns the new data",
    hint=3,
    lesson="The write path",
)
def update_then_fresh_read(ctx: CheckContext) -> None:
    product, cache = "P126", key("P126")
    ctx.use_keys(cache)
    db = ctx.database()
    advice.call(ctx, GET, ctx.client, db, product)
    changes = {"price": 42.5}
    expected = updated(product, changes)
    mark = ctx.client.call_log.mark()
    returned = advice.call(ctx, UPDATE, ctx.client, db, product, changes)
    calls = ctx.client.call_log.records(mark)
    if db.update_calls == 0:
        ctx.fail(
            f"{UPDATE}() never called db.update_product(): the database still has the old price."
        )
    if returned != expected:
        ctx.fail(
            f"{UPDATE}() returned {returned!r}; expected the record db.update_product() returns."
        )
    raw = ctx.server.get(cache)
    if raw is None:
        _judge_shortened(ctx, cache, calls)  # an expiry that has run out since looks right
    else:
        try:
            cached = json.loads(raw)
        except ValueError:
            cached = raw
        if cached != expected:
            _stale_entry(ctx, cache, product, cached, raw, expected, calls)
        ttl = ctx.server.ttl(cache)
        if ttl == -1:
            ctx.fail(
                f"{UPDATE}() refreshed {cache} with no TTL: from now on this entry never "
                "expires. Refresh it with ex=CACHE_TTL_SECONDS, or delete it instead."
            )
        if ttl > ttl_limit(ctx):
            ctx.fail(
                f"{UPDATE}() refreshed {cache} with a TTL of {ttl} s, longer than "
                f"{ttl_limit_words(ctx)}."
            )
    db.reset_counts()
    fresh = advice.call(ctx, GET, ctx.client, db, product)
    if fresh != expected:
        ctx.fail(
            f"After {UPDATE}(), the next read returned {fresh!r}: stale. Expected {expected!r}."
        )


def _short_dict(value, limit=90):
    return shown(
        json.dumps(value, ensure_ascii=False) if value is not None else None, limit, quoted=False
    )


@check(
    "any-change-fresh-read",
    "Any change, to any fields, is seen by the next read (generated products and changes)",
    hint=3,
    lesson="The write path",
)
def any_change_fresh_read(ctx: CheckContext) -> None:
    """Generated products (unicode ids too) and changes to any fields: a read after each
    update returns the updated record. The smallest failing change is shown."""
    # First one field other than the price (the price is what the fixed checks change), then
    # changes to any fields.
    first = ctx.random.choice(sorted(set(CHANGE_FIELDS) - {"price"}))
    cases = [{first: CHANGE_FIELDS[first](ctx.random)}, *(ctx.changes() for _ in range(6))]
    # The first two products are a unicode one and a plain one, the rest either: left to the
    # draw, all seven were plain in about 6% of runs, and an update that invalidates only
    # ASCII ids (a mutant: `if product_id.isascii():`) then passed.
    styles = iter(("unicode", "plain"))

    def trial(changes):
        product = ctx.product_id(next(styles, "any"))
        cache = key(product)
        ctx.use_keys(cache)
        db = ctx.database()
        try:
            before = advice.call(ctx, GET, ctx.client, db, product)
            mark = ctx.client.call_log.mark()
            advice.call(ctx, UPDATE, ctx.client, db, product, changes)
            updating = ctx.client.call_log.records(mark)
            searches = _key_searches(updating)
            db.reset_counts()
            after = advice.call(ctx, GET, ctx.client, db, product)
        finally:
            ctx.server.delete(cache)
        expected = {**ctx.products[product], **changes}
        if after == expected:
            return None
        stale = [
            name for name in changes if isinstance(after, dict) and after.get(name) != changes[name]
        ]
        if isinstance(after, dict) and stale and after == before:
            if _set_only_if_missing(updating, cache):
                return _only_if_missing_words(repr(cache))
            globbed = sorted({char for char in product if char in _GLOB_CHARACTERS})
            if searches and globbed:
                return (
                    f"{UPDATE}({product!r}, …) searched for the key with {searches[0]}, and "
                    f"{' '.join(map(repr, globbed))} in the id is a glob character there, so the "
                    f"pattern does not match the key itself: the old entry stayed cached. Delete "
                    f"the key by its name, {cache!r}: no pattern, no search."
                )
            return (
                f"{UPDATE}({product!r}, {_short_dict(changes)}) left the old {', '.join(stale)} "
                f"cached: the next read returned {_short_dict(after)}. Every update must "
                "invalidate (or refresh) the entry, whatever fields it changes."
            )
        return (
            f"After {UPDATE}({product!r}, {_short_dict(changes)}) the next read returned "
            f"{_short_dict(after)}; expected {_short_dict(expected)}."
        )

    def shrink(changes):
        if len(changes) > 1:
            for name in changes:
                yield {k: v for k, v in changes.items() if k != name}

    ctx.search(cases, trial, shrink)


#: Text a long product description is made of (beyond ASCII too).
_DESCRIPTION = "Hand made in Lyon, ships in 2 days. Fait à la main. 手工制作。 "


@check(
    "any-record-cached",
    "Every record is cached on a miss, short or long",
    hint=2,
    lesson="The read path",
)
def any_record_cached(ctx: CheckContext) -> None:
    """Generated records from a few bytes of JSON to hundreds of kB (a long description):
    after one read, the next comes from the cache. The fixed checks' records are all short,
    and an answer that cached only records below some size passed them."""
    sizes = [
        ctx.random.randint(10, 300),
        ctx.random.randint(400, 4_000),
        ctx.random.randint(4_000, 60_000),
        ctx.random.randint(60_000, 400_000),
    ]

    def trial(size):
        product = ctx.product_id()
        description = (_DESCRIPTION * (size // len(_DESCRIPTION) + 1))[:size]
        ctx.products[product]["description"] = description
        expected = ctx.products[product]
        json_bytes = len(json.dumps(expected).encode())
        cache = key(product)
        ctx.use_keys(cache)
        db = ctx.database()  # after the description: the database copies the records
        try:
            first = advice.call(ctx, GET, ctx.client, db, product)
            db.reset_counts()
            second = advice.call(ctx, GET, ctx.client, db, product)
        finally:
            ctx.server.delete(cache)
        what = f"{product!r} (a record of {json_bytes:,} bytes of JSON)"
        for result in (first, second):
            if result != expected:
                got = _short_dict(result) if isinstance(result, dict) else shown(repr(result), 60)
                return f"{GET}({what}) returned {got}; expected the database's record."
        if db.get_calls:
            return (
                f"The second read of {what} read the database again: the first read did not "
                "cache it. Cache every record the database returns, whatever its size (a "
                "Valkey string holds up to 512 MB)."
            )
        return None

    ctx.search(sizes, trial)


@check(
    "refresh-from-database-record",
    "A refresh on write caches the record the database returned, with what other writers changed",
    hint=3,
    lesson="The write path",
)
def refresh_from_database_record(ctx: CheckContext) -> None:
    """A cached product is updated while another writer changes a field the update does not
    carry (a revision number, as a database bumps one); the next read must return the record
    the database holds, both changes included. A cache refreshed by merging ``changes`` into
    the old cached copy lacks the other writer's field."""
    cases = [ctx.changes() for _ in range(4)]

    def trial(changes):
        product = ctx.product_id()
        cache = key(product)
        ctx.use_keys(cache)
        revision = {"revision": ctx.random.randint(2, 999)}
        db = ctx.database()

        def other_writer(product_id, _changes):
            db.update_product(product_id, dict(revision))

        try:
            before = advice.call(ctx, GET, ctx.client, db, product)
            db.before_update = other_writer
            advice.call(ctx, UPDATE, ctx.client, db, product, changes)
            db.before_update = None
            after = advice.call(ctx, GET, ctx.client, db, product)
        finally:
            ctx.server.delete(cache)
        expected = {**ctx.products[product], **revision, **changes}
        if after in (expected, before):
            return None  # right, or not refreshed at all: any-change-fresh-read names that
        if isinstance(before, dict) and after == {**before, **changes}:
            return (
                f"{UPDATE}({product!r}, {_short_dict(changes)}) refreshed the cache from the "
                "changes merged into the old cached copy, not from the record "
                f"db.update_product() returned: that record also held {_short_dict(revision)}, "
                "which another writer set meanwhile, and the next read returned "
                f"{_short_dict(after)} without it. Cache the record the database returns (or "
                "delete the entry)."
            )
        return (
            f"After {UPDATE}({product!r}, {_short_dict(changes)}), with another writer setting "
            f"{_short_dict(revision)} meanwhile, the next read returned {_short_dict(after)}; "
            f"the database holds {_short_dict(expected)}."
        )

    def shrink(changes):
        if len(changes) > 1:
            for name in changes:
                yield {k: v for k, v in changes.items() if k != name}

    ctx.search(cases, trial, shrink)


class DatabaseDownError(ConnectionError):
    """The database's answer to one call: an ordinary exception, as a real driver raises."""


class SimulatedCrash(BaseException):
    """The process dies in the middle of a database call (not an Exception)."""


@check(
    "database-failures",
    "A database call that raises, or a crash, at any call reaches the caller and caches nothing "
    "the database does not hold",
    hint=3,
    lesson="The write path",
)
def database_failures(ctx: CheckContext) -> None:
    """A read, an update and a read again; the database fails at each of its calls in turn,
    once with an ordinary exception and once with a crash. The failure reaches the caller,
    and afterwards the next read returns what the database holds."""
    steps = [("read", None), ("update", ctx.changes()), ("read", None)]
    calls = _database_calls(ctx, steps)
    for position in range(1, calls + 1):
        for fault in (DatabaseDownError("the database is unreachable"), SimulatedCrash()):
            _fail_at(ctx, steps, position, fault)


RAISED = object()


def _run_steps(ctx, db, product, steps):
    """Run ``steps`` on ``product``: (the index of the step in which the database's fault
    fired, ``RAISED`` or what that step returned), or (None, None) when no fault fired."""
    for number, (what, changes) in enumerate(steps):
        name = GET if what == "read" else UPDATE
        function = ctx.implementation(name)
        args = (ctx.client, db, product) if what == "read" else (ctx.client, db, product, changes)
        armed = bool(db.faults)
        try:
            result = function(*args)
        except (DatabaseDownError, SimulatedCrash):
            return number, RAISED
        except NotImplementedError:
            ctx.fail(f"{name}() is not written yet: fill in the TODOs.")
        except Exception as error:
            ctx.fail(f"{name}() raised {describe_exception(error, ctx.exercise_file)}")
        if armed and not db.faults:
            return number, result
    return None, None


def _database_calls(ctx, steps):
    """How many database calls ``steps`` make when nothing fails."""
    product = ctx.product_id()
    ctx.use_keys(key(product))
    db = ctx.database(latency_seconds=0)
    try:
        _run_steps(ctx, db, product, steps)
    finally:
        ctx.server.delete(key(product))
    return len(db.calls)


def _describe_steps(steps, product):
    return ", then ".join(
        f"{GET}({product!r})" if what == "read" else f"{UPDATE}({product!r}, {_short_dict(c)})"
        for what, c in steps
    )


def _fail_at(ctx, steps, position, fault):
    product = ctx.product_id()
    cache = key(product)
    ctx.use_keys(cache)
    db = ctx.database(latency_seconds=0, faults={position: fault})
    kind = "crashed" if isinstance(fault, SimulatedCrash) else "raised ConnectionError"
    what = f"{_describe_steps(steps, product)}: database call {position} {kind}"
    try:
        step, outcome = _run_steps(ctx, db, product, steps)
        if step is not None and outcome is not RAISED:
            name = GET if steps[step][0] == "read" else UPDATE
            ctx.fail(
                f"{what}, and {name}() returned {_short_dict(outcome)} instead of letting the "
                "error through: the caller cannot tell an outage from a missing product (or "
                "from an update that was done)."
            )
        holds = db.get_product(product)
        raw = ctx.server.get(cache)
        if raw is not None:
            try:
                cached = json.loads(raw)
            except ValueError:
                cached = raw
            if cached != holds:
                ctx.fail(
                    f"{what}; afterwards {cache} holds {shown(raw, 60, quoted=False)}, but the "
                    f"database holds {_short_dict(holds)}: readers get data that was never "
                    "stored. Cache only what the database returned."
                )
        again = advice.call(ctx, GET, ctx.client, db, product)
        if again != holds:
            ctx.fail(
                f"{what}; the next read returned {_short_dict(again)}, but the database "
                f"holds {_short_dict(holds)}."
            )
    finally:
        ctx.server.delete(cache)


#: Commands after which the entry holds the new record, or none.
_INVALIDATIONS = frozenset({"DEL", "UNLINK", "GETDEL", "SET", "SETEX", "PSETEX", "GETEX"})


def _judge_shortened(ctx, cache, calls):
    """Fail when the update gave the entry an expiry (above zero) and neither removed nor
    rewrote it: the old record is served until that expiry. Judged by the commands sent, since
    the entry may have run out by the time the check reads it (a one-second EXPIRE and a
    loaded machine), which would make the update look right. Called when the entry is gone or
    stale, never when it holds the new record."""
    if inspect.on_key(calls, cache, _INVALIDATIONS):
        return
    for command in inspect.on_key(calls, cache, inspect.EXPIRY_COMMANDS):
        if command.name.endswith("AT"):
            # A timestamp in the past removes the key at once: only one still there is wrong.
            shortened = bool(ctx.server.exists(cache))
        else:
            try:
                shortened = int(str(command.args[2])) > 0
            except (IndexError, ValueError):
                shortened = True
        if shortened:
            ttl = ctx.server.ttl(cache)
            left = f"{ttl} s left" if ttl >= 0 else "run out since"
            ctx.fail(
                f"{UPDATE}() shortened the TTL of {cache} ({command.name} "
                f"{command.args[2] if len(command.args) > 2 else ''}, {left}) instead of "
                "invalidating it: a read in that time still gets the old record. Delete the "
                "key after the database write (or store the new record)."
            )


def _stale_entry(ctx, cache, product, cached, raw, expected, calls):
    """Fail, naming why ``cache`` holds ``cached`` and not the updated record ``expected``."""
    if isinstance(cached, dict) and cached and all(expected.get(k) == v for k, v in cached.items()):
        missing = ", ".join(k for k in expected if k not in cached)
        ctx.fail(
            f"After {UPDATE}() the cached record is incomplete: {cache} holds "
            f"{shown(raw, 60, quoted=False)}, without {missing}. Readers get a record missing "
            "fields. Store the whole record db.update_product() returns (or delete the key)."
        )
    if cached != catalogue_record(product):
        ctx.fail(
            f"After {UPDATE}() {cache} holds {shown(raw, 60, quoted=False)}; expected the "
            f"updated record {json.dumps(expected)}, or no entry."
        )
    _judge_shortened(ctx, cache, calls)
    elsewhere = deleted_elsewhere(calls, product, cache)
    if elsewhere:
        ctx.fail(
            f"{UPDATE}() deleted {', '.join(elsewhere)}, but the cache entry is at {cache}, "
            "which still holds the old record: the next read serves stale data. Delete "
            "cache_key(product_id), the key the read path uses."
        )
    if _set_only_if_missing(calls, cache):
        ctx.fail(_only_if_missing_words(cache))
    ctx.fail(
        f"After {UPDATE}() the cache still holds the old record ({shown(raw, 60, quoted=False)}): "
        "the next read serves stale data. Delete the key after the database write (or store "
        "the new record)."
    )


@check(
    "update-uncached-product",
    "Updating a product that is not cached leaves no entry, or one with a TTL",
    hint=3,
    lesson="The write path",
)
def update_uncached_product(ctx: CheckContext) -> None:
    product, cache = "P131", key("P131")
    ctx.use_keys(cache)
    changes = {"price": 18.25}
    advice.call(ctx, UPDATE, ctx.client, ctx.database(), product, changes)
    if not ctx.server.exists(cache):
        return
    ttl = ctx.server.ttl(cache)
    if ttl == -1:
        ctx.fail(
            f"{UPDATE}() on a product that was not cached created {cache} with no TTL (TTL "
            "answers -1): that entry never expires. keepttl=True keeps a TTL only where there "
            "is one. Store the new record with ex=CACHE_TTL_SECONDS, or delete the key."
        )
    if ttl > ttl_limit(ctx):
        ctx.fail(
            f"{UPDATE}() on a product that was not cached created {cache} with a TTL of "
            f"{ttl} s, longer than {ttl_limit_words(ctx)}."
        )
    raw = ctx.server.get(cache) if ctx.server.type(cache) == "string" else None
    expected = updated(product, changes)
    try:
        cached = json.loads(raw) if raw is not None else None
    except ValueError:
        cached = raw
    if cached != expected:
        ctx.fail(
            f"{UPDATE}() on a product that was not cached stored {shown(raw, 60, quoted=False)} "
            f"at {cache}; expected the updated record {json.dumps(expected)}, or no entry."
        )


@check(
    "invalidate-after-database-write",
    "Invalidation follows the database write (a read during the write leaves no old data)",
    hint=3,
    lesson="The write path",
)
def invalidate_after_database_write(ctx: CheckContext) -> None:
    product, cache = "P127", key("P127")
    ctx.use_keys(cache)
    reader_errors = []
    changes = {"price": 7.5}
    early = []

    def concurrent_reader(product_id, _changes):
        # What the cache holds as the database starts writing: the new values must not be
        # there yet, or a failed write would leave readers data that was never committed.
        early.append(ctx.server.get(cache))
        # Another request, arriving while the database is busy writing (once).
        db.before_update = None
        try:
            ctx.exercise.get_product_details(ctx.client, db, product_id)
        except Exception as error:  # reported below if it matters
            reader_errors.append(error)

    db = ctx.database(before_update=concurrent_reader)
    advice.call(ctx, GET, ctx.client, db, product)
    mark = ctx.client.call_log.mark()
    advice.call(ctx, UPDATE, ctx.client, db, product, changes)
    calls = ctx.client.call_log.records(mark)
    if early and early[0] is not None:
        try:
            seen = json.loads(early[0])
        except ValueError:
            seen = None
        if isinstance(seen, dict) and seen.get("price") == changes["price"]:
            ctx.fail(
                f"{UPDATE}() wrote the new price to {cache} before the database write: when "
                "db.update_product() started, the cache already held it. Had that write failed, "
                "readers would get uncommitted data the database never stored. Write the "
                "database first, then delete the key (or store the record it returns)."
            )
    result = advice.call(ctx, GET, ctx.client, db, product)
    expected = updated(product, changes)
    if result == expected:
        return
    write = next(call for call in db.calls if call.operation == "update_product")
    touches = inspect.on_key(calls, cache, KEY_WRITES)
    before = [t for t in touches if t.ended_ns <= write.started_ns]
    after = [t for t in touches if t.started_ns >= write.ended_ns]
    if not touches:
        elsewhere = deleted_elsewhere(calls, product, cache)
        if elsewhere:
            ctx.fail(
                f"{UPDATE}() deleted {', '.join(elsewhere)}, but the cache entry is at {cache}, "
                "which it never touched: the next read serves the old record."
            )
        ctx.fail(f"{UPDATE}() does not invalidate or refresh {cache} at all.")
    if before and not after:
        ctx.fail(
            f"{UPDATE}() invalidated the cache before the database write. A read that ran in "
            "between (simulated here) found no entry, read the old record from the database "
            "and cached it again, so readers get the old price until the TTL ends. Write the "
            "database first, then delete the key."
        )
    extra = f" (the concurrent read raised {reader_errors[0]!r})" if reader_errors else ""
    ctx.fail(
        f"With a read running during the database write, the next read returned {result!r}; "
        f"expected {expected!r}{extra}."
    )


@check(
    "read-during-write-uncached",
    "A read that caches the old record during the database write is invalidated too, though "
    "nothing was cached before",
    hint=3,
    lesson="The write path",
)
def read_during_write_uncached(ctx: CheckContext) -> None:
    """The product is not cached when the update starts; a concurrent reader misses and caches
    the old record while the database writes. An update that deletes only what it saw cached
    before (or only when the copy differs) leaves that old record served."""
    product = ctx.product_id("plain")
    cache = key(product)
    ctx.use_keys(cache)
    changes = ctx.changes()
    old = dict(ctx.products[product])

    def concurrent_reader(_product_id, _changes):
        # Another request, arriving while the database is busy writing: it misses and caches
        # the record the database still holds (as get_product_details would).
        ctx.server.set(cache, json.dumps(old), ex=60)

    db = ctx.database(before_update=concurrent_reader)
    advice.call(ctx, UPDATE, ctx.client, db, product, changes)
    expected = {**old, **changes}
    result = advice.call(ctx, GET, ctx.client, db, product)
    if result != expected:
        ctx.fail(
            f"{product} was not cached when {UPDATE}() started; during its database write a "
            f"concurrent read missed and cached the old record (simulated here). {UPDATE}() "
            f"left it there, so the next read returned {_short_dict(result)}, not the new "
            f"record {_short_dict(expected)}. After the database write, delete the key (or "
            "store the returned record) every time, whatever was cached before."
        )


@check(
    "other-entries-survive",
    "Updating one product leaves other cached products alone",
    hint=3,
    lesson="The write path",
)
def other_entries_survive(ctx: CheckContext) -> None:
    changed, bystander = "P128", "P129"
    ctx.use_keys(key(changed), key(bystander))
    db = ctx.database()
    advice.call(ctx, GET, ctx.client, db, changed)
    advice.call(ctx, GET, ctx.client, db, bystander)
    mark = ctx.client.call_log.mark()
    advice.call(ctx, UPDATE, ctx.client, db, changed, {"name": "Luxury Widget, now blue"})
    names = [name for call in ctx.client.call_log.records(mark) for name in call.command_names]
    flushed = {
        "FLUSHDB": "every key in the client's database (all cached products, and whatever "
        "else that database holds)",
        "FLUSHALL": "every key in every database on the server, not only the cache",
    }
    for flush, what in flushed.items():
        if flush in names:
            ctx.fail(
                f"{UPDATE}() ran {flush}: to invalidate one product it threw away {what}. "
                "Delete just that product's key."
            )
    if "KEYS" in names:
        ctx.fail(
            f"{UPDATE}() searched the keyspace with KEYS, which walks every key while the server "
            f"serves no one else. You know the key already: {key(changed)}."
        )
    if "SCAN" in names:
        ctx.fail(
            f"{UPDATE}() walked the keyspace with SCAN to find one key it can name directly: "
            f"{key(changed)}."
        )
    if not ctx.server.exists(key(bystander)):
        ctx.fail(
            f"Updating {changed} removed {bystander}'s cache entry too; invalidate only the "
            "product that changed."
        )


@check(
    "update-unknown-product",
    "Updating an unknown product raises KeyError, as the database does",
    hint=3,
    lesson="The write path",
)
def update_unknown_product(ctx: CheckContext) -> None:
    unknown = "NOPE-405"
    ctx.use_keys(key(unknown))
    try:
        returned = ctx.implementation(UPDATE)(ctx.client, ctx.database(), unknown, {"price": 1.0})
    except KeyError:
        returned = KeyError
    except NotImplementedError:
        ctx.fail(
            f"{UPDATE}() is not written yet (it raises NotImplementedError): fill in the TODOs "
            f"in {ctx.exercise_file.name}."
        )
    except Exception as error:
        ctx.fail(
            f"{UPDATE}() for an unknown product raised "
            f"{describe_exception(error, ctx.exercise_file)}; expected the database's KeyError "
            "to reach the caller."
        )
    if returned is not KeyError:
        ctx.fail(
            f"{UPDATE}() for an unknown product returned {returned!r}; expected the KeyError "
            "db.update_product raises, so the caller learns the update did not happen."
        )
    if ctx.server.exists(key(unknown)):
        ctx.fail(f"{UPDATE}() for an unknown product cached something at {key(unknown)}.")


@check(
    "dropped-connection",
    "A dropped connection never hides a failed invalidation; ids beyond ASCII are cached alike",
    hint=3,
    lesson="The write path",
)
def dropped_connection(ctx: CheckContext) -> None:
    product = ctx.product_id("unicode")
    cache = key(product)
    ctx.use_keys(cache)
    record = advice.call(ctx, GET, ctx.client, ctx.database(), product)
    cached, left_ms = ctx.server.get(cache), ctx.server.pttl(cache)
    what = f"{GET}({product!r}) (an id beyond ASCII)"
    if _under_a_second(left_ms) and _in_milliseconds(ctx, cache):
        _short_ttl(ctx, cache, left_ms)  # before "cached nothing": it may have run out already
    if cached is None:
        elsewhere = [found for found in _cached_elsewhere(ctx, product) if found != cache]
        if elsewhere:
            ctx.use_keys(*elsewhere)
            ctx.fail(
                f"{what} cached nothing at {cache!r}; it wrote {', '.join(map(repr, elsewhere))} "
                "instead. The key carries the id exactly as the caller gave it: no strip(), "
                "lower() or other clean-up. Two ids the database keeps apart (' P1 ' and "
                "'P1') would share one entry, so one would be served the other's record, and "
                "other services look for the exact key."
            )
        ctx.fail(f"{what} cached nothing at {cache}: every id works alike.")
    try:
        decoded = json.loads(cached)
    except ValueError:
        decoded = None
    ctx.require(
        decoded == record,
        f"{what} left {cached[:80]!r} at {cache}; expected the record it returned, as JSON "
        "(json.dumps(record)): every id works alike.",
    )
    ctx.require(
        left_ms != -1,
        f"{what} cached {cache} with no TTL: it never expires. Give it CACHE_TTL_SECONDS.",
    )
    if left_ms < 1000 and ttl_limit(ctx) >= 2:  # a TTL in milliseconds, most likely
        _short_ttl(ctx, cache, left_ms)

    def read(client):
        ctx.server.delete(cache)
        return ctx.implementation(GET)(client, ctx.database(latency_seconds=0), product)

    # A read may serve the database's record when the cache is down (failing soft).
    faults.require_failure_reaches_caller(
        ctx,
        f"{GET}()",
        read,
        why="the caller gets data no one read",
        accept=lambda result: result == ctx.products[product],
    )

    def update(client):
        ctx.server.set(cache, json.dumps(ctx.products[product]), ex=60)
        return ctx.implementation(UPDATE)(
            client, ctx.database(latency_seconds=0), product, {"stock": 7}
        )

    faults.require_failure_reaches_caller(
        ctx,
        f"{UPDATE}()",
        update,
        why="the caller believes the cache is invalidated while it still serves the old record",
    )
