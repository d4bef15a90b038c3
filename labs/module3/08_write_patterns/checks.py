"""Checks for step 08 (write-patterns): write-through order, write-back queueing, and a flush
that is crashed in the middle and must lose nothing and repeat nothing.

The flush checks queue their entries themselves (XADD in the documented format), so a flaw in
write_back never shows up as a flush failure."""

import contextlib
import functools
import json
import threading
import time

import valkey

from valkey_workshop.checking import faults, inspect
from valkey_workshop.checking.api import (
    CHANGE_FIELDS,
    CheckContext,
    CheckFailed,
    check,
    smaller_counts,
)
from valkey_workshop.labdb import catalogue_record

QUEUE = "product:write-queue"


#: Commands that run a script, which may name the key among their arguments.
SCRIPT_CALLS = {"EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO"}


def key(product_id):
    return f"product:{product_id}:details"


class SimulatedCrash(BaseException):
    """The flushing process dies here (a BaseException, so `except Exception` does not hide it)."""


class RunawayFlush(BaseException):
    """Stops a flush that keeps writing the same changes (a BaseException, as above)."""


@contextlib.contextmanager
def _counting_reads(ctx, limit):
    """While inside: XREADGROUP calls through ctx.client are counted, and the flush is stopped
    (RunawayFlush) past `limit` of them. Yields the list of reads."""
    client, reads = ctx.client, []
    send = client.execute_command

    def counted(*args, **options):
        if str(args[0]).upper() == "XREADGROUP":
            reads.append(args)
            if len(reads) > limit:
                raise RunawayFlush
        return send(*args, **options)

    client.execute_command = counted
    try:
        yield reads
    finally:
        del client.execute_command  # the class's own again


def _kept_reading(ctx, reads, queued):
    ctx.fail(
        f"flush_write_queue kept reading: {len(reads)} XREADGROUP calls for {queued} queued "
        f"{'change' if queued == 1 else 'changes'}, and counting. Stop reading when a read "
        "returns no entries."
    )


def _flush(ctx, db, queued, record=None):
    """flush_write_queue(client, db), stopped as soon as it has made far more database writes,
    or far more reads, than there are queued changes: a flush that never acknowledges re-reads
    its pending entries (ID 0) for ever, and one that never stops on an empty read asks for
    ever."""
    limit = 3 * queued + 10
    writes = []

    def hook(pid, changes):
        writes.append(pid)
        if record is not None:
            record(pid, changes)
        if len(writes) > limit:
            raise RunawayFlush

    db.before_update = hook
    try:
        with _counting_reads(ctx, limit) as reads:
            return ctx.call("flush_write_queue", ctx.client, db)
    except RunawayFlush:
        if len(reads) > limit:
            _kept_reading(ctx, reads, queued)
        ctx.fail(
            f"flush_write_queue kept writing: {len(writes)} database writes for {queued} queued "
            f"{'change' if queued == 1 else 'changes'}, and counting. An entry stays pending "
            "until XACK, so reading pending entries (ID 0) again and again returns the same "
            "entries for ever: acknowledge each one right after its database write."
        )
    finally:
        db.before_update = None


#: The TTL of the stale entry write-through finds cached: well below any CACHE_TTL_SECONDS
#: above a minute, so that keeping it (KEEPTTL) shows.
STALE_TTL_SECONDS = 20


def _judge_not_merged(ctx, situation, cached, merged, expected):
    """Fail when write_through cached the stale entry with the change merged in (``merged``,
    None where nothing was cached before)."""
    if merged is not None and cached == merged:
        ctx.fail(
            f"After {situation} the cache holds the old cached record with the change merged "
            f"in ({cached!r}), not the record the database returned ({expected!r}): a stale "
            "entry stays stale in every field the change leaves alone. Cache what "
            "db.update_product() returned."
        )


def _judge_fresh_ttl(ctx, cache, ttl_setting, elapsed_seconds, primed):
    """``cache`` has the TTL write_through must give it: CACHE_TTL_SECONDS, less only the time
    since the call began (read in milliseconds, so a unit slip and a kept TTL show)."""
    pttl = ctx.server.pttl(cache)
    if pttl == -1:
        ctx.fail(f"{cache} has no TTL after write_through: it never expires.")
    wanted_ms = ttl_setting * 1000
    kept = [
        command
        for command in inspect.on_key(ctx.learner_calls(), cache, {"SET"})
        if "KEEPTTL" in _words(command.args[3:])
    ]
    if primed and kept and pttl <= STALE_TTL_SECONDS * 1000:
        ctx.fail(
            f"write_through stored the new record with SET ... KEEPTTL, so {cache} kept the old "
            f"entry's TTL ({pttl / 1000:.1f} s left) instead of getting CACHE_TTL_SECONDS "
            f"({ttl_setting}): the record is new, so its time to live starts again. Use "
            "ex=CACHE_TTL_SECONDS."
        )
    if pttl > wanted_ms:
        ctx.fail(
            f"{cache} has a TTL of {pttl / 1000:.1f} s after write_through; expected "
            f"CACHE_TTL_SECONDS ({ttl_setting})."
        )
    # Allowed below it: the time the call and this read took (SET ... EX is exact to the ms).
    if pttl < wanted_ms - elapsed_seconds * 1000 - 100:
        unit = (
            " CACHE_TTL_SECONDS given as milliseconds (px=)? It is in seconds: ex=."
            if pttl <= ttl_setting
            else ""
        )
        ctx.fail(
            f"{cache} has a TTL of {pttl} ms after write_through; expected CACHE_TTL_SECONDS "
            f"({ttl_setting} s = {wanted_ms} ms), the time a record cached now should live."
            f"{unit}"
        )


def _prime(ctx, product_id, ttl=300):
    ctx.server.set(key(product_id), json.dumps(catalogue_record(product_id)), ex=ttl)


def _queue(ctx, product_id, changes):
    """One entry in the documented format, as write_back would add it; returns its ID."""
    text = json.dumps(changes)
    _remember_queued(_canonical(changes), text, product_id)
    return ctx.server.xadd(QUEUE, {"product_id": product_id, "changes": text})


#: Every `changes` value queued in this worker (canonical JSON -> the text as first queued,
#: and every product id it was queued for): what a flush may hand the database. Entries a
#: learner's write_back queued are added when first met (see _was_queued).
_QUEUED: dict[str, tuple[str, set[object]]] = {}


def _remember_queued(canonical, text, product_id):
    if canonical is not None:
        _QUEUED.setdefault(canonical, (text, set()))[1].add(product_id)


class ChangedOnTheWay(BaseException):
    """The flush gave the database changes no queued entry holds (a BaseException, so
    `except Exception` in the learner's flush does not hide it); the message says which."""


def _canonical(changes):
    """One text per value, types included: 40 and 40.0, or 40.5 and "40.5", differ."""
    try:
        return json.dumps(changes, sort_keys=True)
    except (TypeError, ValueError):  # a Decimal, a set...: nothing JSON queues
        return None


def _was_queued(ctx, changes):
    text = _canonical(changes)
    if text is None:
        return False
    if text not in _QUEUED:
        with contextlib.suppress(Exception):  # no stream: nothing more was queued
            for _id, fields in ctx.server.xrange(QUEUE):
                with contextlib.suppress(TypeError, ValueError):
                    found = json.loads(fields.get("changes"))
                    _remember_queued(_canonical(found), fields["changes"], fields.get("product_id"))
    return text in _QUEUED


def _queued_for_another(product_id, changes):
    """The id a queued entry with these changes names, when the flush passed it changed on
    the way (strip(), lower()) as ``product_id``; else None. Only such a near id counts: the
    same changes may be queued for other products too, and entries queued around the helpers
    here (concurrent writers) are not all in the ledger."""
    text = _canonical(changes)
    queued_for = _QUEUED[text][1] if text in _QUEUED else set()
    if text is None or product_id in queued_for or not isinstance(product_id, str):
        return None

    def near(owner):
        return (
            isinstance(owner, str)
            and owner != product_id
            and (owner.strip() == product_id.strip() or owner.lower() == product_id.lower())
        )

    owners = [pid for pid in queued_for if near(pid)]
    return owners[0] if owners else None


def _loosely(value):
    """A value with its type forgotten where a cast would keep it: 10, 10.0 and "10.0" meet."""
    with contextlib.suppress(TypeError, ValueError):
        if not isinstance(value, bool | dict | list) and value is not None:
            return float(value)
    return _canonical(value)


def _entry_meant(product_id, changes):
    """The queued changes (as text) the flush most likely meant to pass: the product's entry
    with the same fields whose values match most, once casts are forgotten."""
    mine = [text for text, product_ids in _QUEUED.values() if product_id in product_ids]
    if isinstance(changes, dict) and isinstance(changes.get("changes"), dict):
        changes = changes["changes"]  # the entry's fields, decoded: match what they carry
    if not isinstance(changes, dict):
        return mine[0] if mine else None

    def matching(text):
        queued = json.loads(text)
        if not isinstance(queued, dict) or queued.keys() != changes.keys():
            return -1
        return sum(_loosely(queued[name]) == _loosely(changes[name]) for name in queued)

    return max(mine, key=matching, default=None)


def _changed_on_the_way(ctx, product_id, changes):
    """Why update_product(product_id, changes) is no queued change: words naming the entry."""
    said = (
        f"flush_write_queue called db.update_product({product_id!r}, {changes!r}), but no "
        "queued entry holds those changes"
    )
    meant = _entry_meant(product_id, changes)
    if meant is None:
        with contextlib.suppress(Exception):  # no stream: say what we know
            for _id, fields in ctx.server.xrange(QUEUE):
                if fields.get("product_id") == product_id:
                    return (
                        f"{said}: the entry for it holds {fields!r}, with no JSON 'changes' "
                        "field (the write-back check says what write_back must queue)."
                    )
        return f"{said} (nothing was queued for {product_id!r}): pass each entry's product_id."
    queued = json.loads(meant)
    said += f": the entry says changes={meant!r}."
    if isinstance(changes, dict) and "changes" in changes and "changes" not in queued:
        return (
            f"{said} The flush passed the entry's fields; pass the changes inside them: "
            "json.loads(fields['changes'])."
        )
    if isinstance(changes, dict) and isinstance(queued, dict) and changes.keys() == queued.keys():
        for name, value in queued.items():
            got = changes[name]
            if _canonical(got) != _canonical(value):
                return (
                    f"{said} {name!r} went from {value!r} ({type(value).__name__}) to {got!r} "
                    f"({type(got).__name__}) on the way: the database must get the change as "
                    "queued; pass json.loads(fields['changes']) unchanged."
                )
    return f"{said} Pass json.loads(fields['changes']) unchanged: every field, as queued."


def _database(ctx, **options):
    """ctx.database(...) whose update_product stops the check (ChangedOnTheWay) when a flush
    gives it changes that were never queued: a cast, a str(), fields instead of changes."""
    db = ctx.database(**options)
    update = db.update_product

    def update_product(product_id, changes):
        if not _was_queued(ctx, changes):
            raise ChangedOnTheWay(_changed_on_the_way(ctx, product_id, changes))
        owner = _queued_for_another(product_id, changes)
        if owner is not None:
            raise ChangedOnTheWay(
                f"flush_write_queue called db.update_product({product_id!r}, …), but the "
                f"entry with those changes is for {owner!r}: the id changed on the way. Pass "
                "the entry's product_id exactly as queued (spaces and all: to the database "
                "' P1 ' and 'P1' are two products)."
            )
        return update(product_id, changes)

    db.update_product = update_product
    return db


def _group_moved_past(calls):
    """Words for an XGROUP CREATE or SETID at '$' among the learner's calls, or None: every
    entry queued before it is skipped, whatever the check says next."""
    for _name, args, _call in inspect.commands(calls):
        # valkey-py sends "XGROUP SETID" as one word; execute_command("XGROUP", "SETID", ...) two
        words = [
            word
            for arg in args
            for word in ((arg.decode() if isinstance(arg, bytes) else str(arg)).split(" ", 1))
        ]
        subcommand = words[1].upper() if len(words) > 1 else ""
        moves = words[0].upper() == "XGROUP" and subcommand in {"CREATE", "SETID"}
        if moves and len(words) > 4 and words[4] == "$":
            return (
                f"flush_write_queue sent XGROUP {subcommand} {words[2]} {words[3]} $: "
                "the group then starts after the newest entry, so every change queued "
                "before that call is never delivered and never applied. Create the group "
                'once at ID "0" (ignore BUSYGROUP) and never move it.'
            )
    return None


def _judged_flush(check_function):
    """Under @check for the flush checks: a flush that changed what it was given, or moved its
    group to '$', fails for that, whatever other symptom the check met first."""

    @functools.wraps(check_function)
    def judged(ctx):
        mark = ctx.client.call_log.mark()
        try:
            check_function(ctx)
        except ChangedOnTheWay as changed:
            ctx.fail(str(changed))
        except CheckFailed as failure:
            seen = str(failure).split(": ", 1)[0].split(". ", 1)[0]
            moved = _group_moved_past(ctx.client.call_log.records(mark))
            if moved:
                ctx.fail(f"{moved} What this check saw: {seen}.")
            gone = _pending_but_deleted(ctx)
            if gone:
                ctx.fail(
                    f"Entries still pending (read, never acknowledged) were deleted from "
                    f"{QUEUE} before they were applied ({', '.join(gone[:3])}): the group "
                    "then delivers their IDs with no fields, and those changes are lost. "
                    "Trim (XTRIM MINID, XDEL) only entries older than the oldest pending one "
                    f"(XPENDING). What this check saw: {seen}."
                )
            raise

    return judged


def _pending_but_deleted(ctx):
    """IDs the group still lists as pending whose entries are gone from the stream."""
    with contextlib.suppress(Exception):  # no stream or no group: nothing pending
        group = ctx.setting("GROUP")
        pending = ctx.server.xpending_range(QUEUE, group, min="-", max="+", count=1000)
        ids = [str(entry["message_id"]) for entry in pending]
        return [entry_id for entry_id in ids if not ctx.server.xrange(QUEUE, entry_id, entry_id)]
    return []


def _words(args):
    """A command's arguments as upper-case text (valkey-py sends some options as bytes)."""
    return {(a.decode(errors="replace") if isinstance(a, bytes) else str(a)).upper() for a in args}


def _n_entries(count):
    return "1 entry" if count == 1 else f"{count} entries"


def _groups(ctx):
    try:
        return ctx.server.xinfo_groups(QUEUE)
    except Exception:  # no stream at all
        return []


def _pending(ctx):
    return sum(int(group["pending"]) for group in _groups(ctx))


def _call(ctx, situation, name, *args):
    """ctx.call, with the situation named in the failure."""
    try:
        return ctx.call(name, *args)
    except CheckFailed as failure:
        ctx.fail(f"{situation}: {failure}")


def _queued_changes(ctx, fields, what="write_back"):
    """The `changes` of a queued entry, decoded; a clear failure when it is not JSON."""
    raw = fields.get("changes")
    try:
        return json.loads(raw) if raw is not None else None
    except (TypeError, ValueError):
        ctx.fail(
            f"{what} queued changes={str(raw)[:60]!r}, which is not JSON (str() of a dict "
            "writes Python's repr, with single quotes): the flush reads it with json.loads and "
            "fails. Queue json.dumps(changes)."
        )


def _cached(ctx, product_id):
    raw = ctx.server.get(key(product_id))
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        ctx.fail(f"{key(product_id)} holds {raw[:50]!r}, which is not JSON.")


def _fail_cached_elsewhere(ctx, what, product_id):
    """Nothing under the product's key but the record under another that names the product:
    fail naming both."""
    tag = product_id.strip().rsplit("-", 2)[-2:]  # run tag and number: unique to this product
    elsewhere = sorted(
        found
        for found in ctx.server.scan_iter(match=f"*{'-'.join(tag)}*", count=1000)
        if found != key(product_id)
    )
    if not elsewhere:
        return  # cached nowhere: the caller's message says what is missing
    ctx.fail(
        f"{what} returned the updated record but cached nothing under {key(product_id)!r}. "
        f"It went to {elsewhere[0]!r}. The key is product:<id>:details with the id exactly "
        "as given: spaces at its ends and inside, colons and all (a changed id can be another "
        "product's key)."
    )


@check(
    "write-through",
    "write_through updates the database, then the cache, then returns",
    hint=1,
    lesson="Write-through",
)
def write_through(ctx: CheckContext) -> None:
    ttl_setting = ctx.setting("CACHE_TTL_SECONDS")
    if isinstance(ttl_setting, bool) or not isinstance(ttl_setting, int):
        ctx.fail(f"CACHE_TTL_SECONDS is {ttl_setting!r}; it should be a whole number of seconds.")
    if not 1 <= ttl_setting <= 86400:
        ctx.fail(
            f"CACHE_TTL_SECONDS is {ttl_setting}: a cached record needs a TTL of at least 1 s "
            "and at most a day (86400 s), or a missed update is served that long."
        )
    # A product already cached, and one that is not: both end with the new record cached.
    # The cached one is stale (an older name, its TTL nearly run out): the record the
    # database returns must replace it, whole, with a fresh TTL.
    for product, primed in (("P301", True), ("P305", False)):
        ctx.use_keys(key(product))
        db = ctx.database()
        stale = {**catalogue_record(product), "name": f"{catalogue_record(product)['name']} (old)"}
        if primed:
            ctx.server.set(key(product), json.dumps(stale), ex=STALE_TTL_SECONDS)
        ctx.begin()
        situation = f"write_through({product!r}) ({'cached' if primed else 'not cached'} before)"
        called = time.monotonic()
        returned = _call(ctx, situation, "write_through", ctx.client, db, product, {"price": 5.5})
        expected = {**catalogue_record(product), "price": 5.5}
        ctx.require(
            db.update_calls == 1,
            f"{situation} called db.update_product {db.update_calls} times; expected once.",
        )
        # The order first: a cache written before the database is wrong whatever it holds.
        update = db.calls[-1]
        writes = inspect.on_key(ctx.learner_calls(), key(product), {"SET", "SETEX", "PSETEX"})
        early = [w for w in writes if w.started_ns < update.ended_ns]
        if early:
            ctx.fail(
                f"{situation} wrote the cache ({early[0].name}) before the database write had "
                "returned: until it does, and for good if it fails, the cache serves data the "
                "database does not have. Write the database first, then cache what it returned."
            )
        ctx.require(
            returned == expected,
            f"{situation} returned {returned!r}; expected the database's record {expected!r}.",
        )
        cached = _cached(ctx, product)
        if cached is None:
            ctx.fail(
                f"After {situation} nothing is cached at {key(product)}: the next read misses."
            )
        merged = {**stale, "price": 5.5} if primed else None
        _judge_not_merged(ctx, situation, cached, merged, expected)
        ctx.require(
            cached == expected,
            f"After {situation} the cache holds {cached!r}; expected the record the database "
            f"returned, {expected!r}.",
        )
        _judge_fresh_ttl(ctx, key(product), ttl_setting, time.monotonic() - called, primed)
        window = inspect.ttl_window(ctx.learner_calls(), key(product))
        if window:
            ctx.fail(window)
    # An unknown product: the database refuses, so the cache must not learn about it.
    ctx.use_keys(key("P9999"))
    try:
        ctx.exercise.write_through(ctx.client, ctx.database(), "P9999", {"price": 1.0})
    except KeyError:
        pass
    except Exception as error:
        ctx.fail(
            f"write_through for an unknown product raised {error!r}; the database raises "
            "KeyError, and that should reach the caller."
        )
    else:
        if not ctx.server.exists(key("P9999")):
            ctx.fail(
                "write_through for an unknown product (P9999) returned normally: the database's "
                "KeyError was swallowed, so the caller believes a refused write succeeded."
            )
    if ctx.server.exists(key("P9999")):
        ctx.fail(
            "write_through cached a change the database refused (unknown product P9999): the "
            "cache now serves data the database never had. Write the database first."
        )


def _entries(ctx):
    if ctx.server.type(QUEUE) != "stream":
        return []
    return ctx.server.xrange(QUEUE)


def _expires_at_ms(ctx, name):
    """PEXPIRETIME of ``name`` (Valkey, Redis 7.0 and later), or None where it is missing."""
    try:
        return int(ctx.server.execute_command("PEXPIRETIME", name))
    except valkey.ResponseError:
        return None


@check(
    "write-back",
    "write_back updates the cache at once (keeping its TTL) and queues the change with XADD",
    hint=2,
    lesson="Write-back (write-behind)",
)
def write_back(ctx: CheckContext) -> None:
    product, uncached = "P302", "P306"
    ctx.use_keys(key(product), key(uncached), QUEUE)
    # 120.5 s, not CACHE_TTL_SECONDS and not whole seconds: a reset TTL shows, and so does
    # one read with TTL and written back with EX (rounded down, in two commands).
    primed_ms = 120_500  # TTL answers 121 s here: half a second off, either way
    started = time.monotonic()
    ctx.server.set(key(product), json.dumps(catalogue_record(product)), px=primed_ms)
    expires_at = _expires_at_ms(ctx, key(product))
    _call(ctx, f"write_back({product!r})", "write_back", ctx.client, product, {"price": 2.5})
    cached = _cached(ctx, product)
    expected = {**catalogue_record(product), "price": 2.5}
    if cached == catalogue_record(product) and ctx.server.exists(QUEUE):
        written_back = any(
            name == "SET" and str(args[1]) == key(product)
            for name, args, _ in inspect.commands(ctx.learner_calls())
        )
        if written_back:
            ctx.fail(
                f"After write_back({product!r}, {{'price': 2.5}}) the cache holds "
                f"{cached!r}: the record was written back with its old price. The merge lets "
                "the cached values win: {**changes, **record}. The change must win: "
                "{**record, **changes}."
            )
    ctx.require(
        cached == expected, f"After write_back the cache holds {cached!r}; expected {expected!r}."
    )
    left = ctx.server.pttl(key(product))
    elapsed_ms = (time.monotonic() - started) * 1000
    ctx.require(left > 0, "write_back dropped the cached record's TTL: keep it (SET ... KEEPTTL).")
    ctx.require(
        left <= primed_ms + 1500,  # a TTL read in seconds and written back may round up
        f"write_back gave the cached record a new TTL ({left / 1000:.1f} s; it had "
        f"{primed_ms / 1000:.1f} s left): keep the remaining TTL (SET ... KEEPTTL), as the "
        "docstring asks.",
    )
    now_expires_at = _expires_at_ms(ctx, key(product))
    if expires_at is not None and now_expires_at is not None:
        # The expiry moment itself: KEEPTTL leaves it exactly where it was, any new expiry
        # moves it. (The drift of PTTL against the check's clock, used where PEXPIRETIME is
        # missing, includes the check's own delays: a stall on a loaded machine moves it.)
        drift_ms, tolerance_ms = float(abs(now_expires_at - expires_at)), 0.0
    else:
        drift_ms, tolerance_ms = abs(primed_ms - elapsed_ms - left), 200.0
    calls = ctx.learner_calls()
    read = inspect.on_key(calls, key(product), {"TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"})
    sets = inspect.on_key(calls, key(product), {"SET"})
    rewritten = [c for c in sets if "KEEPTTL" not in _words(c.args)]
    scripted = inspect.on_key(calls, key(product), SCRIPT_CALLS)
    if (drift_ms > tolerance_ms or (read and rewritten)) and scripted and not (read or rewritten):
        ctx.fail(
            f"write_back kept {left / 1000:.1f} s of the {primed_ms / 1000:.1f} s TTL "
            f"({drift_ms:.0f} ms off): its script ({scripted[0].name}) set the record again "
            "with an expiry of its own. A script runs at once, so nothing can happen in "
            "between, but an expiry read with TTL is whole seconds. SET ... KEEPTTL keeps the "
            "TTL exactly (in a script too)."
        )
    if drift_ms > tolerance_ms or (read and rewritten):
        how = f"it read the TTL ({read[0].name}) and wrote it back" if read else "it was re-set"
        ctx.fail(
            f"write_back kept {left / 1000:.1f} s of the {primed_ms / 1000:.1f} s TTL "
            f"({drift_ms:.0f} ms off): {how}, rounded and in a separate command, so the key "
            "can also expire in between. SET ... KEEPTTL keeps the TTL exactly, in the same "
            "command as the new value."
        )
    entries = _entries(ctx)
    if len(entries) != 1:
        ctx.fail(
            f"write_back queued {len(entries)} entries on the stream {QUEUE}; expected one "
            "per change. Without it the database never hears of this change: append it with "
            "XADD."
        )
    fields = entries[0][1]
    try:
        changes = json.loads(fields.get("changes", "null"))
    except ValueError:
        changes = fields.get("changes")
    if fields.get("product_id") != product or changes != {"price": 2.5}:
        ctx.fail(
            f"The queued entry is {fields!r}; expected the fields product_id={product!r} and "
            "changes='{\"price\": 2.5}' (the changes as JSON), which the flush reads."
        )
    # Not cached: nothing to update, and a partial record must not pass for the product.
    _call(
        ctx,
        f"write_back({uncached!r}) for a product that is not cached",
        "write_back",
        ctx.client,
        uncached,
        {"price": 3.5},
    )
    partial = ctx.server.get(key(uncached))
    if partial is not None:
        ctx.fail(
            f"write_back for a product that was not cached cached {partial[:60]!r}: a record "
            "built from the changes alone is served as the whole product. Update the cache "
            "only when it holds the record."
        )
    ids = [fields.get("product_id") for _, fields in _entries(ctx)]
    ctx.require(
        ids == [product, uncached],
        f"After a second write_back for {uncached} (not cached) the queue holds changes for "
        f"{ids}; the change must be queued even when nothing is cached.",
    )


#: How long one write_back may wait for the other in the race (a signal normally ends the wait
#: at once; this bound only stops an answer that waits for itself from hanging the check).
RACE_WAIT_SECONDS = 10.0


def _names_key(sent, wanted, besides=frozenset()):
    """Whether a round trip (a command's arguments, or a pipeline's batch) names ``wanted`` in
    a command other than those in ``besides``."""
    batch = sent.commands if hasattr(sent, "commands") else (sent,)
    return any(
        str(args[0]).upper() not in besides
        and wanted in {a.decode(errors="replace") if isinstance(a, bytes) else str(a) for a in args}
        for args in batch
    )


@contextlib.contextmanager
def _after_each_round_trip(ctx, hook, *, with_reply=False):
    """While inside: hook(sent) runs right after each round trip of the learner's client or
    one of its pipelines returns, in the thread that made it (``sent`` is the command's
    arguments, or the pipeline's batch; with ``with_reply``, hook(sent, reply)). The round
    trips are still logged as usual."""
    log = ctx.client.call_log
    original = log._raw

    class Watched(list):
        def append(self, item):
            super().append(item)
            if with_reply:
                hook(item[0], item[1])
            else:
                hook(item[0])

    watched = Watched(original)
    log._raw, log.append = watched, watched.append
    try:
        yield
    finally:
        original[:] = list(watched)
        log._raw, log.append = original, original.append


@check(
    "write-back-concurrent",
    "Two write_backs to one product at the same moment both survive in the cache",
    hint=2,
    lesson="Two writers at once, and a crash in between",
)
def write_back_concurrent(ctx: CheckContext) -> None:
    product = "P308"
    record_key = key(product)
    ctx.use_keys(record_key, QUEUE)
    _prime(ctx, product)
    first_change, second_change = {"name": "Renamed Widget"}, {"price": 4.5}
    first_paused, second_done = threading.Event(), threading.Event()
    outcome = {}
    paused = []

    def pause_first(sent):
        # The worst moment: the first write_back has just read the record (its first round
        # trip on the key after any WATCH), and the whole second write_back runs before it
        # goes on. A WATCH then notices the change; a plain read-then-write loses it.
        if (
            threading.current_thread() is first
            and not paused
            and _names_key(sent, record_key, besides={"WATCH", "UNWATCH"})
        ):
            paused.append(sent)
            first_paused.set()
            second_done.wait(RACE_WAIT_SECONDS)

    def run(name, changes, wait_for=None, done=None):
        try:
            if wait_for is not None:
                wait_for.wait(RACE_WAIT_SECONDS)
            ctx.call("write_back", ctx.client, product, changes)
        except BaseException as error:  # shown below, in the check's own thread
            outcome[name] = error
        finally:
            if done is not None:
                done.set()

    first = threading.Thread(target=run, args=("first", first_change, None, first_paused))
    second = threading.Thread(target=run, args=("second", second_change, first_paused, second_done))
    with _after_each_round_trip(ctx, pause_first):
        first.start()
        second.start()
        for thread in (first, second):
            thread.join(3 * RACE_WAIT_SECONDS)
    if first.is_alive() or second.is_alive():
        ctx.fail(
            "Two write_backs to one product at the same moment did not both return within "
            f"{3 * RACE_WAIT_SECONDS:.0f} s: one waits for the other for ever."
        )
    for name, error in outcome.items():
        if isinstance(error, CheckFailed):
            ctx.fail(f"The {name} of two write_backs at the same moment: {error}")
        ctx.fail(f"The {name} of two write_backs at the same moment raised {error!r}.")
    cached = _cached(ctx, product)
    expected = {**catalogue_record(product), **first_change, **second_change}
    queued = [_queued_changes(ctx, fields) for _, fields in _entries(ctx)]
    if cached != expected:
        lost = [
            c
            for c in (first_change, second_change)
            if cached is None or any(cached.get(k) != v for k, v in c.items())
        ]
        aborted = [c for c in ctx.learner_calls() if c.error and "WatchError" in c.error]
        if lost and lost[0] not in queued and aborted:
            ctx.fail(
                f"Two write_backs to {product} at the same moment, {first_change} and "
                f"{second_change}: the first one's EXEC was aborted (WatchError: the second had "
                f"changed the WATCHed key) and write_back gave up, so its change {lost[0]} was "
                "dropped from the queue as well as the cache: the database never hears of it. "
                "After a WatchError, read the record again and try again (a loop, or "
                "client.transaction(fn, key), which retries for you)."
            )
        ctx.fail(
            f"Two write_backs to {product} at the same moment, {first_change} and "
            f"{second_change}: the cache holds {cached!r}, so {lost[0] if lost else 'one'} "
            "was lost. The first had read the record when the second wrote its change, and "
            "then wrote its merge of the older copy over it: the read-then-write race of step "
            "03. Make the read and the write one step: WATCH the key and MULTI/EXEC, starting "
            "again after a WatchError, or a Lua script."
        )
    ctx.require(
        sorted(queued, key=str) == sorted([first_change, second_change], key=str),
        f"Two write_backs at the same moment queued {queued}; expected both changes, "
        f"{first_change} and {second_change}.",
    )


@check(
    "write-back-crash-order",
    "No crash inside write_back leaves the cache serving a change that is not queued",
    hint=2,
    lesson="Two writers at once, and a crash in between",
)
def write_back_crash_order(ctx: CheckContext) -> None:
    product = "P309"
    record_key = key(product)
    ctx.use_keys(record_key, QUEUE)
    _prime(ctx, product)
    primed = ctx.server.get(record_key)
    change = {"price": 7.5}
    unqueued = []

    def look(sent):
        # What the server holds if the process died right after this round trip.
        if ctx.server.get(record_key) != primed and not _entries(ctx):
            names = sent.commands if hasattr(sent, "commands") else (sent,)
            unqueued.append(" ".join(str(args[0]).upper() for args in names))

    with _after_each_round_trip(ctx, look):
        _call(ctx, f"write_back({product!r})", "write_back", ctx.client, product, change)
    if unqueued:
        ctx.fail(
            f"write_back updated the cached record ({unqueued[0]}) before the change was "
            "queued: a crash between the two leaves the cache serving a change that no flush "
            "will ever bring to the database, and the TTL then drops it for good. Queue it "
            "first (XADD), then update the cache, or do both in one MULTI/EXEC or Lua script."
        )


@check(
    "flush-applies-in-order",
    "flush_write_queue applies queued changes in order, through the consumer group",
    hint=3,
    lesson="Write-back (write-behind)",
)
@_judged_flush
def flush_applies_in_order(ctx: CheckContext) -> None:
    first, second = "P303", "P307"
    ctx.use_keys(QUEUE)
    try:
        empty = _flush(ctx, _database(ctx, latency_seconds=0), 0)
    except CheckFailed as failure:
        ctx.fail(f"flush_write_queue with nothing queued (no stream yet): {failure}")
    if empty != 0 or isinstance(empty, bool):
        ctx.fail(f"flush_write_queue with nothing queued returned {empty!r}; expected 0.")
    ctx.use_keys(QUEUE)
    queued = [(first, 10.0), (second, 15.0), (first, 20.0), (second, 25.0), (first, 30.0)]
    for product, price in queued:
        _queue(ctx, product, {"price": price})
    seen = []
    db = _database(ctx)
    ctx.begin()
    applied = _flush(
        ctx, db, len(queued), lambda pid, changes: seen.append((pid, changes.get("price")))
    )
    groups = [group["name"] for group in _groups(ctx)]
    if not groups:
        ctx.fail(
            f"No consumer group exists on {QUEUE}: without one nothing records which entries "
            "were delivered but not yet written, so a crash can lose or repeat them. Read with "
            "XREADGROUP and acknowledge with XACK."
        )
    group = ctx.setting("GROUP")
    if group not in groups:
        ctx.fail(f"The consumer groups on {QUEUE} are {groups}; expected GROUP ({group!r}).")
    if not seen and _pending(ctx) == 0:
        info = next(g for g in _groups(ctx) if g["name"] == group)
        if info.get("last-delivered-id") == ctx.server.xinfo_stream(QUEUE)["last-generated-id"]:
            ctx.fail(
                f"The database received nothing: the group {group!r} starts after the last "
                "entry, as if created at '$' (only entries added later are delivered), so the "
                "changes queued before the first flush are never applied. Create the group at "
                'ID "0": xgroup_create(WRITE_QUEUE, GROUP, id="0", mkstream=True).'
            )
    ctx.require(
        seen == queued,
        f"The database received {seen}; expected {queued}: every change, for its own product, "
        "in stream order.",
    )
    ctx.require(
        applied == len(queued) and not isinstance(applied, bool),
        f"flush_write_queue returned {applied!r}; it applied {len(queued)} changes.",
    )
    pending = _pending(ctx)
    ctx.require(
        pending == 0,
        f"{_n_entries(pending)} {'is' if pending == 1 else 'are'} still pending after the flush: "
        + "acknowledge each one after its database write.",
    )
    again = _flush(
        ctx, db, len(queued), lambda pid, changes: seen.append((pid, changes.get("price")))
    )
    if again != 0 and len(seen) == len(queued):
        ctx.fail(
            f"A second flush, with nothing left to apply, returned {again!r} though it wrote "
            "nothing to the database: return how many changes this flush applied (not the "
            "stream's length, nor the entries read)."
        )
    ctx.require(
        len(seen) == len(queued),
        f"A second flush applied changes again ({len(seen) - len(queued)} database writes); "
        "each entry must be applied once.",
    )
    # More than one read's worth: every queued change is applied, not only the first batch.
    many = 150  # more than one read of 100
    for number in range(many):
        _queue(ctx, first, {"price": float(number)})
    db = _database(ctx, latency_seconds=0)
    mark = ctx.client.call_log.mark()
    applied = _flush(ctx, db, many)
    final = db.get_product(first)["price"]
    trims = _trims(ctx.client.call_log.records(mark))
    if trims and (applied != many or len(db.calls) < many):
        ctx.fail(
            f"With {many} changes queued, flush_write_queue trimmed the stream ({trims[0]}) and "
            f"then applied {applied!r} of them: the trim deleted changes it had not applied "
            "yet, so the database never gets them. Trimming must never delete an entry not "
            "yet applied: trim only what is acknowledged (XTRIM ... MINID at the oldest entry "
            "not yet acknowledged, or XDEL each entry after its XACK)."
        )
    if applied != many or final != float(many - 1):
        ctx.fail(
            f"With {many} changes queued, flush_write_queue applied {applied!r} and left the "
            f"price at {final}; expected {many} and {float(many - 1)}. Keep reading until the "
            "group has no more entries for you."
        )


def _trims(calls, *, deletes=True):
    """The commands that trim the queue by count (XTRIM/XADD with MAXLEN), and with
    ``deletes`` those that delete entries (XDEL), as the learner would type them."""
    found = []
    for name, args, _call in inspect.commands(calls):
        if QUEUE not in {str(a) for a in args[1:2]}:
            continue
        if (name in {"XTRIM", "XADD"} and "MAXLEN" in _words(args)) or (deletes and name == "XDEL"):
            words = [a.decode(errors="replace") if isinstance(a, bytes) else str(a) for a in args]
            shown = " ".join(words[:6]) + (" …" if len(words) > 6 else "")
            found.append(shown)
    return found


#: How many write_backs at most the trimming check queues before one flush (a random number
#: from TRIM_QUEUED_MIN up to here: more than any MAXLEN a learner might pick for a small queue).
TRIM_QUEUED_MAX = 200
TRIM_QUEUED_MIN = 50


@check(
    "trim-keeps-unapplied",
    "Many write_backs before one flush: every change is applied (no trim deletes one unapplied)",
    hint=2,
    lesson="Write-back (write-behind)",
)
@_judged_flush
def trim_keeps_unapplied(ctx: CheckContext) -> None:
    """The database is away for a while: between flushes, write_back queues far more changes
    than a MAXLEN would keep. All of them must reach the database, in order."""
    count = ctx.random.randint(TRIM_QUEUED_MIN, TRIM_QUEUED_MAX)
    products = [ctx.product_id("plain") for _ in range(3)]
    ctx.use_keys(QUEUE, *(key(p) for p in products))
    for product in products[:2]:  # two cached, one not
        ctx.server.set(key(product), json.dumps(ctx.products[product]), ex=300)
    sent = []
    for number in range(count):
        product = products[number % len(products)]
        change = {"stock": number}
        _call(ctx, f"write_back({product!r}, {change})", "write_back", ctx.client, product, change)
        sent.append((product, number))
    queued = ctx.server.xlen(QUEUE) if ctx.server.type(QUEUE) == "stream" else 0
    trims = _trims(ctx.learner_calls(), deletes=False)
    if queued < count and not trims:
        uncached = products[2]
        missing = sum(1 for product, _ in sent if product == uncached)
        which = (
            f", about as many as went to {uncached!r}, the one product not cached"
            if abs((count - queued) - missing) <= 1
            else ""
        )
        ctx.fail(
            f"After {count} write_backs (the flusher away meanwhile) the queue holds only "
            f"{queued} entries, and nothing trimmed it: {count - queued} changes were never "
            f"queued{which}. Every write_back queues its change (XADD), cached or not."
        )
    if queued < count:
        how = f" ({trims[0]})" if trims else ""
        ctx.fail(
            f"After {count} write_backs (the flusher away meanwhile) the queue holds only "
            f"{queued} entries: write_back trimmed the stream{how}, deleting "
            f"{count - queued} changes no flush had applied yet, so the database never gets "
            "them. Trimming must never delete an entry not yet applied: no MAXLEN on XADD; "
            "trim only what is acknowledged (XTRIM ... MINID at the oldest entry not yet "
            "acknowledged, or XDEL after XACK)."
        )
    seen = []
    db = _database(ctx, latency_seconds=0)
    applied = _flush(ctx, db, count, lambda pid, changes: seen.append((pid, changes.get("stock"))))
    if seen != sent or applied != count:
        trims = _trims(ctx.learner_calls())
        how = f", after trimming the stream ({trims[0]})" if trims else ""
        ctx.fail(
            f"{count} write_backs queued {count} changes; the flush{how} applied {len(seen)} "
            f"and returned {applied!r}: every queued change must reach the database once, in "
            "order. Trimming must never delete an entry not yet applied."
        )
    trims = _trims(ctx.learner_calls(), deletes=False)
    if trims:
        ctx.fail(
            f"write_back or flush_write_queue trims the queue by count ({trims[0]}): when the "
            "flusher falls that far behind (the database down for a while), the trim deletes "
            "changes not yet applied. Trim only what is acknowledged (XTRIM ... MINID at the "
            "oldest entry not yet acknowledged, or XDEL after XACK)."
        )


def _queue_edits(calls):
    """The learner's commands that delete entries of the queue (XTRIM, XDEL, XADD with a
    trim), as typed."""
    found = []
    for name, args, _call in inspect.commands(calls):
        words = [a.decode(errors="replace") if isinstance(a, bytes) else str(a) for a in args]
        if words[1:2] != [QUEUE]:
            continue
        if name in {"XTRIM", "XDEL"} or (name == "XADD" and {"MAXLEN", "MINID"} & _words(args)):
            found.append(" ".join(words[:6]) + (" …" if len(words) > 6 else ""))
    return found


def _read_nothing(sent, reply):
    """Whether this round trip was one XREADGROUP that returned no entries."""
    if hasattr(sent, "commands") or str(sent[0]).upper() != "XREADGROUP":
        return False
    if isinstance(reply, BaseException):
        return False
    if isinstance(reply, dict):  # RESP3 answers {stream: entries}
        reply = list(reply.items())
    return not any(batch for _, batch in reply or [])


@check(
    "trim-keeps-concurrent",
    "A write_back queued while a flush runs is applied by the next flush (no trim deletes it)",
    hint=3,
    lesson="Write-back (write-behind)",
)
@_judged_flush
def trim_keeps_concurrent(ctx: CheckContext) -> None:
    """Other processes keep calling write_back while the flush runs: here a burst of changes
    is queued right after each of the flush's first two reads that returned nothing. The
    flush may leave them for the next flush, which must apply them: a trim must not delete
    them (XTRIM MINID at the stream's last-generated-id does)."""
    product = ctx.product_id("plain")
    ctx.use_keys(QUEUE, key(product))
    queued = ctx.random.randint(1, 5)
    for number in range(queued):
        _queue(ctx, product, {"stock": number})
    # A burst, not one change: more than one node of the stream (100 entries or 4 KB each),
    # so that even an approximate trim (MINID ~) deletes some of it.
    burst = ctx.random.randint(120, 240)
    total = [queued]
    rounds = []

    def another_writer(sent, reply):
        if len(rounds) < 2 and _read_nothing(sent, reply):
            rounds.append(total[0])
            writes = ctx.server.pipeline(transaction=False)
            for number in range(total[0], total[0] + burst):
                writes.xadd(
                    QUEUE, {"product_id": product, "changes": json.dumps({"stock": number})}
                )
            writes.execute()
            total[0] += burst

    applied = []
    db = _database(ctx, latency_seconds=0)
    ctx.begin()
    with _after_each_round_trip(ctx, another_writer, with_reply=True):
        _flush(
            ctx, db, queued + 2 * burst, lambda _pid, changes: applied.append(changes.get("stock"))
        )
    _flush(ctx, db, total[0], lambda _pid, changes: applied.append(changes.get("stock")))
    expected = list(range(total[0]))
    if applied == expected:
        return
    lost = [number for number in expected if number not in applied]
    edits = _queue_edits(ctx.learner_calls())
    if lost and edits:
        ctx.fail(
            f"{queued} {'change was' if queued == 1 else 'changes were'} queued, and other "
            f"writers' write_backs queued {burst} more right after the flush's read that "
            "returned nothing (the flush was about to finish). The flush then edited the "
            f"stream ({edits[0]}) and the change "
            f"stock={lost[0]} was never applied, not even by the next flush: the trim deleted "
            "a change no one had read yet. Trim only what is acknowledged: XTRIM ... MINID at "
            "the oldest entry not yet acknowledged (the group's last-delivered-id, past any "
            "pending), or XDEL each entry after its XACK, never at the stream's "
            "last-generated-id."
        )
    ctx.fail(
        f"{queued} {'change was' if queued == 1 else 'changes were'} queued, and other "
        f"writers' write_backs queued {burst} more right after each of the flush's first "
        "two reads that returned nothing; this flush and "
        f"the next one applied {len(applied)} changes between them; expected all "
        f"{len(expected)}, once each and in order."
    )


def _consumers_read_as(calls):
    """The consumer names the learner's XREADGROUP/XAUTOCLAIM/XCLAIM calls used, in order."""
    names = []
    for name, args, _call in inspect.commands(calls):
        words = [a.decode() if isinstance(a, bytes) else str(a) for a in args]
        if (name == "XREADGROUP" and len(words) > 3 and words[1].upper() == "GROUP") or (
            name in {"XAUTOCLAIM", "XCLAIM"} and len(words) > 3
        ):
            names.append(words[3])
    return names


def _consumer_change(ctx):
    """Why pending entries stayed unread when the flush changed its consumer name: words
    naming both names, or None when the last read used the pending entries' owner's name."""
    group = getattr(ctx.exercise, "GROUP", None)
    try:
        entries = ctx.server.xpending_range(QUEUE, group, "-", "+", 10) if group else []
    except Exception:  # no stream or no group: nothing pending to name
        entries = []
    owners = sorted({str(entry["consumer"]) for entry in entries})
    names = _consumers_read_as(ctx.learner_calls())
    last = names[-1] if names else None
    if owners and last is not None and last not in owners:
        return (
            f"the entries left pending belong to consumer {owners[0]!r}, but the next flush "
            f"read as {last!r}: ID 0 returns only the reading consumer's own pending entries. "
            "Read as the same consumer (CONSUMER) every time."
        )
    return None


def _pending_left(ctx, final, after):
    """Fail, naming why the entry the crash left pending was not applied by the next flush:
    another consumer's name, or an XAUTOCLAIM that waits for entries idle far longer."""
    try:
        entries = ctx.server.xpending_range(QUEUE, ctx.setting("GROUP"), "-", "+", 10)
    except Exception:
        entries = []
    owners = sorted({str(entry["consumer"]) for entry in entries})
    calls = ctx.learner_calls()
    names = _consumers_read_as(calls)
    last = names[-1] if names else None
    price = f"the price is {final}" + (
        " only because a later change set it" if final == 60.0 else ", expected 60.0"
    )
    if owners and last is not None and last not in owners:
        ctx.fail(
            f"The entry the crash left pending belongs to consumer {owners[0]!r}, but the next "
            f"flush read as {last!r}: ID 0 returns only the reading consumer's own pending "
            f"entries, so the change to 50.0 was never applied ({price}). Read as the same "
            "consumer (CONSUMER) every time." + after
        )
    for name, args, _call in inspect.commands(calls):
        if name == "XAUTOCLAIM" and len(args) > 4:
            try:
                idle_ms = int(args[4])
            except (TypeError, ValueError):
                continue
            if idle_ms > 1000:
                ctx.fail(
                    f"The next flush claimed pending entries with XAUTOCLAIM min-idle-time "
                    f"{idle_ms} ms, but the entry the crash left had been idle only a moment, so "
                    f"it stayed pending and the change to 50.0 was not applied ({price}). Read "
                    "your own pending entries (ID 0) first, or claim with a min-idle-time of "
                    "0 when this consumer restarts." + after
                )
    if final == 60.0:
        ctx.fail(
            f"After the crash, the next flush left {_n_entries(_pending(ctx))} pending: the "
            "change to 50.0 that the crash interrupted was never applied (the price is 60.0 "
            "only because a later change set it). Entries read before the crash but not "
            "acknowledged are never read again with '>'. Read your pending entries (ID 0) "
            "first." + after
        )


def _trace(calls):
    """The stream calls of a flush in one line: which IDs each read asked for and which
    changes (prices) it got, and the acknowledgements, in order."""
    steps = []
    for name, args, reply in inspect.replies(calls):
        if name == "XREADGROUP":
            streams = list(reply.items()) if isinstance(reply, dict) else reply  # RESP3: a dict
            if not isinstance(streams, list):  # an error, or a pipeline that failed
                streams = []
            entries = [
                entry
                for stream in streams
                if isinstance(stream, list | tuple) and len(stream) == 2
                for entry in stream[1] or []
            ]
            prices = []
            for entry in entries:
                try:
                    prices.append(json.loads(entry[1]["changes"]).get("price"))
                except (AttributeError, IndexError, KeyError, TypeError, ValueError):
                    prices.append("?")
            steps.append(f"XREADGROUP {args[-1]} → {prices}")
        elif name in {"XACK", "XAUTOCLAIM", "XCLAIM"}:
            steps.append(f"{name} ×{max(len(args) - 3, 1)}" if name == "XACK" else name)
    return ", ".join(steps) or "no stream calls"


def _crash_never_came_back(ctx, attempts):
    """Fail a flush that returned although a crash was planned in its second write."""
    if not attempts:
        ctx.fail(
            f"flush_write_queue wrote nothing to the database with 3 changes queued "
            f"({_trace(ctx.learner_calls())}), so the crash planned in its second write "
            "never came: is the group created at ID '0' (not '$'), and are the entries "
            "read with '>' after the pending ones?"
        )
    ctx.fail(
        "The simulated crash in the second database write never reached the caller: "
        "flush_write_queue swallowed it."
    )


def _reads_noack(calls):
    """Whether any XREADGROUP among these calls asked for NOACK."""
    return any(
        "NOACK" in _words(args) for name, args, _ in inspect.commands(calls) if name == "XREADGROUP"
    )


def _acked_after(calls, entry_id, moments_ns):
    """Whether an XACK of this entry started after the first of these moments (a failure)."""
    if not moments_ns:
        return False
    return any(
        name == "XACK" and entry_id in [str(a) for a in args[3:]]
        for name, args, call in inspect.commands(calls)
        if call.started_ns > moments_ns[0]
    )


@check(
    "crash-loses-nothing",
    "A crash between read and acknowledge loses nothing and repeats nothing",
    hint=3,
    lesson="Write-back (write-behind)",
)
@_judged_flush
def crash_loses_nothing(ctx: CheckContext) -> None:
    product = "P304"
    ctx.use_keys(key(product), QUEUE)
    ids = [_queue(ctx, product, {"price": price}) for price in (40.0, 50.0, 60.0)]
    attempts = []
    crashed_at_ns = []

    def crash_on_second(pid, changes):
        attempts.append(changes.get("price"))
        if len(attempts) == 2:
            crashed_at_ns.append(time.perf_counter_ns())
            raise SimulatedCrash("the flushing process died here")

    db = _database(ctx, before_update=crash_on_second)
    ctx.begin()  # the calls shown from here: the flush that crashes, then the next one
    try:
        with _counting_reads(ctx, 20) as reads:
            ctx.exercise.flush_write_queue(ctx.client, db)
    except SimulatedCrash:
        pass
    except RunawayFlush:
        _kept_reading(ctx, reads, 3)
    except Exception as error:
        ctx.fail(f"flush_write_queue raised {error!r} before the simulated crash.")
    else:
        _crash_never_came_back(ctx, attempts)
    written_before = attempts[:1]  # the second attempt died before its write
    applied_prices = []
    price_after_crash = db.get_product(product)["price"]
    before_second = len(ctx.learner_calls())
    returned = _flush(ctx, db, 3, lambda pid, changes: applied_prices.append(changes.get("price")))
    final = db.get_product(product)["price"]
    after = f" The flush after the crash: {_trace(ctx.learner_calls()[before_second:])}."
    if applied_prices == [50.0, 60.0] and final == 60.0 and not _pending(ctx):
        ctx.require(
            returned == 2 and not isinstance(returned, bool),
            f"The flush after the crash applied 2 changes but returned {returned!r}.",
        )
        return
    if applied_prices == [50.0, 60.0] and final == 60.0:
        ctx.fail(
            f"After the crash, the next flush applied [50, 60], as it should, but left "
            f"{_n_entries(_pending(ctx))} pending: the entries it applied were never "
            "acknowledged, so a later flush applies them again. XACK each entry right after "
            "its write." + after
        )
    if _pending(ctx):
        _pending_left(ctx, final, after)
        ctx.fail(
            f"After the crash, the next flush left {_n_entries(_pending(ctx))} pending and the "
            f"price at {final} (expected 60.0): entries read before the crash but not "
            "acknowledged are never read again with '>'. Read your pending entries (ID 0) first."
            + after
        )
    if 50.0 not in applied_prices and _reads_noack(ctx.learner_calls()):
        ctx.fail(
            "The change to 50.0 was lost: XREADGROUP ... NOACK counts an entry as acknowledged "
            "the moment it is delivered, so the one the crash interrupted never became pending "
            "and no later flush applied it. Read without NOACK, and XACK after each write."
        )
    first_flush = ctx.learner_calls()[:before_second]
    if 50.0 not in applied_prices and _acked_after(first_flush, ids[1], crashed_at_ns):
        ctx.fail(
            "The change to 50.0 was lost: its database write failed (the simulated crash), and "
            "flush_write_queue acknowledged its entry anyway, after the failure (an XACK in a "
            "finally: or an except: block), so no later flush applied it (the database went "
            f"from {price_after_crash} to {final}). Acknowledge only after the write returns."
        )
    if 50.0 not in applied_prices and final != 50.0:
        ctx.fail(
            "The change to 50.0 was lost: it was acknowledged before the database write, so "
            f"after the crash no one applied it (the database went from {price_after_crash} to "
            f"{final}). Acknowledge only after the write."
        )
    twice = [price for price in written_before if price in applied_prices]
    if twice:
        ctx.fail(
            f"The change to {twice[0]} was applied twice: it reached the database before the "
            "crash but was not acknowledged then, so the next flush applied it again (changes "
            f"applied after the crash: {applied_prices}; expected [50.0, 60.0]). Acknowledge "
            "each entry right after its own database write, not after the whole batch." + after
        )
    ctx.fail(
        f"After the crash, the next flush applied {applied_prices}; expected [50.0, 60.0], "
        f"once each and in stream order (the price is now {final})." + after
    )


class DatabaseDownError(ConnectionError):
    """The database's answer to one write: an ordinary exception, as a real driver raises."""


def _number(value):
    """A price as the messages show it: 40 for 40.0; anything that is not a number, as repr."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:g}"
    return repr(value)


def _price_list(prices):
    return "[" + ", ".join(_number(p) for p in prices) + "]"


@check(
    "failed-write-stays-pending",
    "A database write that raises, or a crash, at any write leaves its change pending for the "
    "next flush",
    hint=3,
    lesson="Write-back (write-behind)",
)
@_judged_flush
def failed_write_stays_pending(ctx: CheckContext) -> None:
    """The database fails each of the flush's writes in turn, once with an ordinary exception
    and once with a crash: the change whose write failed is never acknowledged, and the next
    flush applies it and the changes after it, in order, once each."""
    prices = [40.0, 50.0, 60.0]
    for position in range(1, len(prices) + 1):
        for crash in (False, True):
            _one_fault(ctx, prices, position, crash=crash)


def _flush_meeting_fault(ctx, db, how, queued, *, crash):
    """The flush that meets the injected fault: it may let the error through (or return, for
    an ordinary exception); a crash must reach the caller. Returns what the flush returned
    (None when it raised)."""
    try:
        with _counting_reads(ctx, 20) as reads:
            returned = ctx.exercise.flush_write_queue(ctx.client, db)
    except (SimulatedCrash, DatabaseDownError):
        return None
    except RunawayFlush:
        _kept_reading(ctx, reads, queued)
    except NotImplementedError:
        ctx.fail("flush_write_queue() is not written yet: fill in the TODOs.")
    except Exception as error:
        ctx.fail(f"{how}, and flush_write_queue raised {error!r} instead of letting it through.")
    if not db.update_calls:
        ctx.fail(
            f"flush_write_queue never wrote the database ({_n_entries(queued)} queued: "
            f"{_trace(ctx.learner_calls())}), so the fault planned in one of its writes never "
            "came: create the group at ID '0' and read this consumer's pending entries (ID 0), "
            "then the new ones ('>')."
        )
    if crash:
        ctx.fail(
            f"{how}, but the crash never reached the caller: flush_write_queue swallowed it "
            "(a crash is a BaseException; catch Exception at most)."
        )
    return returned


def _entry_pending(ctx, entry_id):
    """Whether this one entry is pending in the group (read, not acknowledged)."""
    try:
        found = ctx.server.xpending_range(QUEUE, ctx.setting("GROUP"), entry_id, entry_id, 1)
    except Exception:  # no stream or no group
        return False
    return bool(found)


def _one_fault(ctx, prices, position, *, crash):
    product = ctx.product_id("plain")
    ctx.use_keys(QUEUE, key(product))
    ids = [_queue(ctx, product, {"price": price}) for price in prices]
    fault = (
        SimulatedCrash("the flushing process died here")
        if crash
        else DatabaseDownError("the database is unreachable")
    )
    attempts = []
    db = _database(ctx, faults={position: fault})
    db.before_update = lambda _pid, changes: attempts.append(changes.get("price"))
    failed_price = prices[position - 1]
    how = (
        f"The flushing process crashed in database write {position} (the change to "
        f"{failed_price:g})"
        if crash
        else f"Database write {position} (the change to {failed_price:g}) raised ConnectionError"
    )
    ctx.begin()
    try:
        returned_at_fault = _flush_meeting_fault(ctx, db, how, len(prices), crash=crash)
    finally:
        db.before_update = None
    written = db.update_calls - 1  # every write but the one that failed
    if returned_at_fault is not None and returned_at_fault != written:
        ctx.fail(
            f"{how}; flush_write_queue let it pass and returned {returned_at_fault!r}, but only "
            f"{written} of its database writes succeeded: it counted a change it did not apply. "
            "Return how many changes this flush applied (or let the error reach the caller)."
        )
    failed_entry_pending = _entry_pending(ctx, ids[position - 1])
    applied = []
    returned = _flush(
        ctx, db, len(prices), lambda _pid, changes: applied.append(changes.get("price"))
    )
    final = db.get_product(product)["price"]
    expected_after = prices[position - 1 :]
    still = _pending(ctx)
    if applied == expected_after and final == prices[-1] and not still:
        return
    lost = failed_price not in applied
    if lost and not failed_entry_pending:
        ctx.fail(
            f"{how}, yet flush_write_queue acknowledged its entry: it was not left pending, so "
            f"no later flush applied it and the change is lost (the next flush applied "
            f"{_price_list(applied)}; the price is {_number(final)}). Acknowledge an entry only "
            "after its write returns; when the write raises, leave the entry pending and stop "
            "there (raise, or return the count so far)."
        )
    if lost:
        why = _consumer_change(ctx) or "read this consumer's pending entries (ID 0) first."
        ctx.fail(
            f"{how}; its entry stayed pending, but the next flush did not apply it (it applied "
            f"{_price_list(applied)}): {why}"
        )
    skipped_ahead = [price for price in attempts[position:] if price in prices[position:]]
    if skipped_ahead:
        ctx.fail(
            f"{how}, and flush_write_queue went on to the later changes "
            f"{_price_list(skipped_ahead)}; the next flush then applied {_price_list(applied)}, "
            f"so the price ended at {_number(final)}, not {prices[-1]:g}: changes out of order. "
            "Stop the flush at a failed write (raise, or return the count so far)."
        )
    twice = [price for price in prices[: position - 1] if price in applied]
    if twice:
        ctx.fail(
            f"{how}; the next flush applied {_price_list(applied)}, among them {twice[0]:g}, "
            "which was written and should have been acknowledged before the failure: each "
            "entry is acknowledged right after its own write."
        )
    if applied == expected_after and still:
        ctx.fail(
            f"{how}; the next flush applied {_price_list(applied)}, as it should, but left "
            f"{_n_entries(still)} pending: entries it applied were never acknowledged, so a "
            "later flush applies them again. XACK each entry right after its write."
        )
    ctx.fail(
        f"{how}; the next flush applied {_price_list(applied)} and returned {returned!r}; "
        f"expected {_price_list(expected_after)}, once each and in order (the price is "
        f"{_number(final)})."
    )


@check(
    "pending-before-new",
    "After a crash, the next flush applies the pending changes before newer ones queued since",
    hint=3,
    lesson="Write-back (write-behind)",
)
@_judged_flush
def pending_before_new(ctx: CheckContext) -> None:
    """A flush crashes at one of its writes, leaving entries pending; a newer change to the
    same product is queued; the next flush must end with the newer value in the database.
    A flush that reads new entries ('>') before its pending ones (ID 0) writes the older,
    pending change last."""
    cases = []
    for _ in range(3):
        queued = ctx.random.randint(1, 3)
        cases.append((queued, ctx.random.randint(1, queued)))

    def trial(case):
        queued, position = case
        product = ctx.product_id("plain")
        ctx.use_keys(QUEUE, key(product))
        prices = ctx.random.sample(range(10, 999), queued + 1)
        *old, newer = (float(price) for price in prices)
        for price in old:
            _queue(ctx, product, {"price": price})
        db = _database(ctx, faults={position: SimulatedCrash("the flushing process died here")})
        how = (
            f"The flushing process crashed in database write {position} (the change to "
            f"{old[position - 1]:g})"
        )
        ctx.begin()
        _flush_meeting_fault(ctx, db, how, queued, crash=True)
        left = _pending(ctx)
        if left == 0:
            return None  # nothing pending: the checks of the crash itself judge that
        _queue(ctx, product, {"price": newer})
        applied = []
        _flush(ctx, db, queued + 1, lambda _pid, changes: applied.append(changes.get("price")))
        final = db.get_product(product)["price"]
        if final == newer:
            return None
        if newer in applied and applied.index(newer) < len(applied) - 1:
            return (
                f"{how}, leaving {_n_entries(left)} pending; then a newer change (to "
                f"{newer:g}) was queued. The next flush applied {_price_list(applied)}: the new "
                f"entry ('>') before the pending ones (ID 0), so the older change was written "
                f"last and the price ended at {_number(final)}, not {newer:g}. Read the pending "
                "entries (ID 0) first, then the new ones ('>')."
            )
        return (
            f"{how}, leaving {_n_entries(left)} pending; then a newer change (to {newer:g}) "
            f"was queued. The next flush applied {_price_list(applied)} and the price ended at "
            f"{_number(final)}, not {newer:g}."
        )

    def shrink(case):
        queued, position = case
        if queued > 1:
            yield (queued - 1, min(position, queued - 1))

    ctx.search(cases, trial, shrink)


#: How many entries at most the many-pending check leaves pending after a crash (drawn from 1
#: up to here, and once exactly this many: more than any COUNT a learner might read with).
PENDING_LEFT_MAX = 300


@check(
    "many-pending",
    "After a crash that left many entries pending, the next flush applies every one, in order, "
    "then the newer ones",
    hint=3,
    lesson="Write-back (write-behind)",
)
@_judged_flush
def many_pending(ctx: CheckContext) -> None:
    """A flush read many entries and died before acknowledging any: all of them are pending
    for CONSUMER, more than one read with a COUNT returns. Newer changes are queued since. The
    next flush must apply every pending one, in order, then the newer ones."""
    group, consumer = ctx.setting("GROUP"), ctx.setting("CONSUMER")
    cases = [ctx.random.randint(1, PENDING_LEFT_MAX) for _ in range(2)] + [PENDING_LEFT_MAX]
    newer = 2

    def trial(left):  # noqa: PLR0911 - one return per diagnosis, the likeliest fault first
        product = ctx.product_id("plain")
        ctx.use_keys(QUEUE, key(product))
        queue = ctx.server.pipeline(transaction=False)
        for number in range(left):
            queue.xadd(QUEUE, {"product_id": product, "changes": json.dumps({"stock": number})})
        queue.execute()
        # The flush that crashed: it had read them all (as CONSUMER) and acknowledged none.
        ctx.server.xgroup_create(QUEUE, group, id="0")
        ctx.server.xreadgroup(group, consumer, {QUEUE: ">"}, count=left)
        for number in range(left, left + newer):
            _queue(ctx, product, {"stock": number})
        applied = []
        db = _database(ctx, latency_seconds=0)
        ctx.begin()
        returned = _flush(
            ctx, db, left + newer, lambda _pid, changes: applied.append(changes.get("stock"))
        )
        expected = list(range(left + newer))
        still = _pending(ctx)
        if applied == expected and not still:
            return None
        how = (
            f"A flush crashed after reading {_n_entries(left)} and acknowledging none (all "
            f"pending for {consumer!r}); then {newer} newer changes were queued. The next flush "
            f"applied {len(applied)} {'change' if len(applied) == 1 else 'changes'} and returned "
            f"{returned!r}, leaving "
            f"{_n_entries(still)} pending"
        )
        numbers = [number for number in applied if isinstance(number, int)]
        old = [number for number in numbers if number < left]
        if not old and (other := _consumer_change(ctx)):
            return f"{how}: {other}"
        if applied == expected:
            return (
                f"{how}: it applied every change, in order, but never acknowledged "
                f"{'that one' if still == 1 else 'those'}, so a later flush applies "
                f"{'it' if still == 1 else 'them'} again. XACK each entry right after its write."
            )
        if sorted(numbers) == expected:
            return (
                f"{how}: every change once, but in the order {_few(applied)}: the newer "
                "changes ('>') went before the pending ones (ID 0), so an older change was "
                "written last. Read the pending entries (ID 0) until none are left, then the "
                "new ones ('>')."
            )
        if not old:
            return (
                f"{how}: none of the {_n_entries(left)} left pending was applied. Read this "
                "consumer's pending entries (ID 0) first, as CONSUMER, until a read returns "
                "none."
            )
        if old == list(range(len(old))) and len(old) < left:
            return (
                f"{how}: it applied only the first {len(old)} pending ones. One read returns at "
                "most COUNT entries, pending (ID 0) or new ('>'): keep reading ID 0 until a "
                "read returns none, then go on to '>'."
            )
        return f"{how}; expected all {left + newer}, once each and in stream order."

    ctx.search(cases, trial, smaller_counts)


def _few(numbers, shown=6):
    """A list of numbers as a message shows it: the first few, then how many more."""
    if len(numbers) <= shown:
        return _price_list(numbers)
    return _price_list(numbers[:shown])[:-1] + f", … {len(numbers) - shown} more]"


def _all_applied(ctx, db, product, prices):
    return db.get_product(product)["price"] == prices[-1] and not _pending(ctx)


@check(
    "dropped-connection",
    "A connection dropped at any round trip of a flush reaches the caller, and the next flush "
    "applies what is left",
    hint=3,
    lesson="Write-back (write-behind)",
)
@_judged_flush
def dropped_connection(ctx: CheckContext) -> None:
    prices = [40.0, 50.0, 60.0]
    product = ctx.product_id("plain")
    ctx.use_keys(QUEUE, key(product))

    def setup():
        ctx.server.delete(QUEUE)
        for price in prices:
            _queue(ctx, product, {"price": price})
        return _database(ctx, latency_seconds=0)

    counting = faults.dropping_client(ctx, None)
    ctx.call("flush_write_queue", counting, setup())
    total = counting.round_trips
    for fail_from, transient in ((k, t) for k in range(1, total + 1) for t in (False, True)):
        db = setup()
        client = faults.dropping_client(ctx, fail_from, transient=transient)
        alone = " (that one only)" if transient else ""
        where = f"round trip {fail_from} of {total}{alone}"
        try:
            returned = ctx.implementation("flush_write_queue")(client, db)
        except faults.DroppedConnection:
            pass
        except Exception as error:
            ctx.fail(
                f"The connection to Valkey dropped at {where} ({client.counter.first_failed}) "
                f"and flush_write_queue raised {error!r} instead of the ConnectionError."
            )
        else:
            if transient and _all_applied(ctx, db, product, prices):
                continue  # it tried again and finished: fine
            ctx.fail(
                f"The connection to Valkey dropped at {where} ({client.counter.first_failed}), "
                f"yet flush_write_queue returned {returned!r} as if the queue were done: the "
                "caller believes the changes are applied and acknowledged. Let the error reach "
                "the caller."
            )
        _flush(ctx, db, len(prices))
        final = db.get_product(product)["price"]
        if final == prices[-1] and _pending(ctx):
            ctx.fail(
                f"After the connection dropped at {where} ({client.counter.first_failed}), the "
                f"next flush brought the price to {final:g}, but "
                f"{_n_entries(_pending(ctx))} stayed pending: entries applied but never "
                "acknowledged are applied again by every later flush. XACK each entry right "
                "after its write."
            )
        if final != prices[-1] or _pending(ctx):
            why = _consumer_change(ctx) or (
                "entries read but not acknowledged must be read again (ID 0) and applied."
            )
            ctx.fail(
                f"After the connection dropped at {where} ({client.counter.first_failed}), the "
                f"next flush left the price at {_number(final)} (expected {prices[-1]:g}) and "
                f"{_n_entries(_pending(ctx))} pending: {why}"
            )


@check(
    "generated-writes",
    "write_through and write_back take any changes, for any product id, and a dropped "
    "connection reaches their caller",
    hint=2,
    lesson="Write-back (write-behind)",
)
@_judged_flush
def generated_writes(ctx: CheckContext) -> None:
    """Generated products (unicode ids too) and changes to any fields."""
    # First one field other than the price (the fixed checks change the price), then any.
    field = ctx.random.choice(sorted(set(CHANGE_FIELDS) - {"price"}))
    # The last carries an empty list, which a merge through Lua's cjson turns into {}.
    drawn = [
        {field: CHANGE_FIELDS[field](ctx.random)},
        ctx.changes(),
        {**ctx.changes(), "tags": []},
    ]
    for style, changes in zip(("unicode", "plain", "any"), drawn, strict=True):
        product = ctx.product_id(style)
        cache = key(product)
        ctx.use_keys(cache, QUEUE)
        expected = {**ctx.products[product], **changes}
        what = f"write_through({product!r}, {json.dumps(changes, ensure_ascii=False)})"
        returned = _call(ctx, what, "write_through", ctx.client, ctx.database(), product, changes)
        if returned == expected and _cached(ctx, product) is None:
            _fail_cached_elsewhere(ctx, what, product)
        ctx.require(
            returned == expected and _cached(ctx, product) == expected,
            f"{what} returned {returned!r} and cached {_cached(ctx, product)!r}; expected the "
            f"updated record {expected!r} in both: any fields, any product.",
        )
        what = f"write_back({product!r}, {json.dumps(changes, ensure_ascii=False)})"
        ctx.server.set(cache, json.dumps(ctx.products[product]), ex=300)
        _call(ctx, what, "write_back", ctx.client, product, changes)
        queued = [fields for _, fields in _entries(ctx)]
        cached = _cached(ctx, product)
        emptied = [
            name
            for name, value in changes.items()
            if value == [] and isinstance(cached, dict) and cached.get(name) == {}
        ]
        if emptied:
            ctx.fail(
                f"After {what} the cached record has {emptied[0]!r}: {{}} where the change says "
                "[]: a merge through Lua's cjson writes an empty list as an empty object. "
                "Merge in Python and let the script only compare and write (or use "
                "WATCH/MULTI/EXEC)."
            )
        ctx.require(
            _cached(ctx, product) == expected
            and len(queued) == 1
            and queued[0].get("product_id") == product
            and _queued_changes(ctx, queued[0], what) == changes,
            f"After {what} the cache holds {_cached(ctx, product)!r} and the queue {queued!r}; "
            f"expected {expected!r} and one entry with those changes: any fields, any product.",
        )
    # The flush reads any changes back: JSON's true, false and null too; for an id with
    # spaces at its ends, which the flush must pass on as queued.
    product = ctx.product_id("unicode")
    ctx.use_keys(QUEUE, key(product))
    changes = {**ctx.changes(), "discontinued": ctx.random.choice((True, False)), "note": None}
    _queue(ctx, product, changes)
    what = f"flush_write_queue with the change {json.dumps(changes, ensure_ascii=False)} queued"
    db = _database(ctx, latency_seconds=0)
    try:
        _flush(ctx, db, 1)
    except CheckFailed as failure:
        ctx.fail(
            f"{what}: {failure} The changes are JSON text: read them with json.loads (JSON "
            "writes true, false and null, which Python's eval does not know)."
        )
    record = db.get_product(product)
    expected = {**ctx.products[product], **changes}
    ctx.require(
        record == expected,
        f"After {what}, the database holds {record!r}; expected {expected!r}: decode the "
        "changes with json.loads.",
    )
    product, changes = ctx.product_id("plain"), {"stock": 3}

    def through(client):
        return ctx.implementation("write_through")(
            client, ctx.database(latency_seconds=0), product, changes
        )

    def back(client):
        ctx.server.delete(QUEUE)
        ctx.server.set(key(product), json.dumps(ctx.products[product]), ex=300)
        return ctx.implementation("write_back")(client, product, changes)

    ctx.use_keys(key(product), QUEUE)
    faults.require_failure_reaches_caller(
        ctx, "write_through()", through, why="the caller believes the cache holds the update"
    )

    def queued_and_cached():
        entries = _entries(ctx)
        return len(entries) == 1 and _cached(ctx, product) == {
            **ctx.products[product],
            **changes,
        }

    faults.require_failure_reaches_caller(
        ctx,
        "write_back()",
        back,
        why="the caller believes the change is queued for the database",
        done=queued_and_cached,
    )
